// Studio's hand-written behaviour: small, progressive, no framework.
// Everything here enhances pages that already work without JavaScript.
(function () {
  "use strict";

  // Selects marked data-autosubmit submit their form when changed (workspace switcher).
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  // Clips play on hover (or focus) in grids; the video only loads when first wanted.
  function startPreview(box) {
    var video = box.querySelector("video[data-hover-src]");
    if (!video) return;
    if (!video.getAttribute("src")) video.src = video.dataset.hoverSrc;
    box.classList.add("playing");
    var played = video.play();
    if (played && played.catch) played.catch(function () { box.classList.remove("playing"); });
  }
  function stopPreview(box) {
    var video = box.querySelector("video[data-hover-src]");
    if (!video) return;
    video.pause();
    box.classList.remove("playing");
  }
  document.addEventListener("pointerover", function (event) {
    var box = event.target.closest(".card-media");
    if (box && event.pointerType !== "touch" && !box.contains(event.relatedTarget)) startPreview(box);
  });
  document.addEventListener("pointerout", function (event) {
    var box = event.target.closest(".card-media");
    if (box && !box.contains(event.relatedTarget)) stopPreview(box);
  });
  document.addEventListener("focusin", function (event) {
    var box = event.target.closest && event.target.closest(".card-media");
    if (box) startPreview(box);
  });
  document.addEventListener("focusout", function (event) {
    var box = event.target.closest && event.target.closest(".card-media");
    if (box) stopPreview(box);
  });
  // On touch screens the first tap plays the clip, a second tap opens it.
  document.addEventListener("click", function (event) {
    var box = event.target.closest(".card-media");
    if (!box || !box.querySelector("video[data-hover-src]")) return;
    if (window.matchMedia("(hover: none)").matches && !box.classList.contains("playing")) {
      event.preventDefault();
      startPreview(box);
    }
  });

  // Provider key form: show the secrets the chosen provider needs, under its own names.
  function showCredentials(form) {
    var labels = JSON.parse(document.getElementById(form.dataset.credentials).textContent);
    var wanted = labels[form.elements.provider.value] || {};
    form.querySelectorAll("[data-credential]").forEach(function (box) {
      var name = box.dataset.credential;
      box.hidden = !(name in wanted);
      var label = box.querySelector("label");
      if (label && wanted[name]) label.textContent = wanted[name];
    });
  }
  document.querySelectorAll("form[data-credentials]").forEach(showCredentials);
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.dataset.credentials && event.target.name === "provider") showCredentials(form);
  });

  // Builder rows (dialogue lines, multi-shot shots): add by cloning, remove, toggle.
  function notifyChange(element) {
    element.dispatchEvent(new Event("input", { bubbles: true }));
  }
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var rows = document.getElementById(add.dataset.addRow);
      var all = rows.querySelectorAll("[data-row]");
      var template = all[all.length - 1];
      var copy = template.cloneNode(true);
      copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      template.after(copy);
      copy.querySelector("input").focus();
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var row = remove.closest("[data-row]");
      var container = row.parentElement;
      if (container.querySelectorAll("[data-row]").length > 1) {
        row.remove();
      } else {
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      }
      notifyChange(container);
    }
  });
  document.addEventListener("change", function (event) {
    var toggle = event.target.closest("[data-toggles]");
    if (toggle) {
      var target = document.getElementById(toggle.dataset.toggles);
      if (target) target.hidden = !toggle.checked;
    }
  });
})();
