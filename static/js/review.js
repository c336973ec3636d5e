// Small helpers around review: copy a link, put an @name into the comment being written.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var input = document.getElementById(copy.dataset.copy);
      input.select();
      var done = function () {
        copy.textContent = "Copied";
        window.setTimeout(function () { copy.textContent = "Copy"; }, 2000);
      };
      if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, function () {});
      else if (document.execCommand("copy")) done();
      return;
    }
    var mention = event.target.closest("[data-mention]");
    if (mention) {
      var body = document.getElementById("comment-body");
      var at = body.selectionStart !== null ? body.selectionStart : body.value.length;
      var before = body.value.slice(0, at);
      var text = (before && !/\s$/.test(before) ? " " : "") + "@" + mention.dataset.mention + " ";
      body.value = before + text + body.value.slice(at);
      body.focus();
      body.setSelectionRange(at + text.length, at + text.length);
    }
  });
})();
