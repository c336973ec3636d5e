// The review player and the compare view: frame steps, loop, speed, a timecode, comments
// stamped at the current frame, and two takes kept in step while they play.
// Pages work without it: the <video> elements keep their native controls until this runs.
(function () {
  "use strict";

  // A position this close below a frame boundary counts as that frame (comment stamps are
  // whole milliseconds). The same value is FRAME_EPSILON in studio/review/templatetags.
  var EPSILON = 0.05;
  // Compare view: drift above this is corrected by a seek, smaller drift by nudging speed.
  var SEEK_DRIFT = 0.1;
  var NUDGE_DRIFT = 0.02;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function frameAt(seconds, fps) { return Math.floor(seconds * fps + EPSILON); }
  function timecode(seconds, fps) {
    var perSecond = Math.max(Math.round(fps), 1);
    var frame = frameAt(seconds, fps);
    var whole = Math.floor(frame / perSecond);
    return pad(Math.floor(whole / 3600)) + ":" + pad(Math.floor(whole / 60) % 60) + ":" +
      pad(whole % 60) + ":" + pad(frame % perSecond);
  }
  function clamp(value, low, high) { return Math.min(Math.max(value, low), high); }
  function start(video) {
    var played = video.play();
    if (played && played.catch) played.catch(function () {});
  }
  function onFrame(video, callback) {
    // Once per painted frame where the browser can tell us, else once per screen refresh.
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(callback);
    else window.requestAnimationFrame(callback);
  }
  // Call `callback` on every frame of `video()` while `running()`; asking again while a
  // frame is already awaited does nothing, so play/pause/loop never stack up loops.
  function everyFrame(video, running, callback) {
    var waiting = false;
    function frame() {
      waiting = false;
      callback();
      if (running()) schedule();
    }
    function schedule() {
      if (!waiting) {
        waiting = true;
        onFrame(video(), frame);
      }
    }
    return schedule;
  }

  // One <video>. The pair below has the same methods, so one control bar drives either.
  function single(video) {
    return {
      videos: [video],
      fps: parseFloat(video.dataset.fps) || 24,
      playing: function () { return !video.paused && !video.ended; },
      play: function () { start(video); },
      pause: function () { video.pause(); },
      time: function () { return video.currentTime; },
      duration: function () { return video.duration || 0; },
      seek: function (t) { video.currentTime = clamp(t, 0, video.duration || t); },
      looping: function () { return video.loop; },
      setLoop: function (on) { video.loop = on; },
      setRate: function (rate) { video.playbackRate = rate; },
      onTick: function (callback) {
        ["timeupdate", "seeked", "loadedmetadata", "play", "pause"].forEach(function (name) {
          video.addEventListener(name, callback);
        });
        var tick = everyFrame(function () { return video; }, function () { return !video.paused; }, callback);
        video.addEventListener("play", tick);
      },
    };
  }

  // Two <video>s on one timeline. The longer clip leads; the other follows and, while
  // they play, is pulled back into step on every frame of the leader: a seek when it is
  // off by more than SEEK_DRIFT, a slightly faster or slower speed for smaller drift
  // (seeking on every small drift would stall it on decoding over and over).
  function pair(a, b) {
    var loop = true;
    var rate = 1;
    var running = false;
    function leader() { return (b.duration || 0) > (a.duration || 0) ? b : a; }
    function follower() { return leader() === a ? b : a; }
    function followerTime(t) { return Math.min(t, Math.max((follower().duration || t) - 0.001, 0)); }
    function align() {
      var lead = leader(), follow = follower();
      follow.currentTime = followerTime(lead.currentTime);
      follow.playbackRate = rate;
    }
    function isRunning() { return running; }
    var keepInStep = everyFrame(leader, isRunning, function () {
      var lead = leader(), follow = follower();
      var target = lead.currentTime;
      if (!running || target >= (follow.duration || 0) - 0.05) return;
      var drift = follow.currentTime - target;
      if (follow.paused) {
        follow.currentTime = target;
        start(follow);
      } else if (Math.abs(drift) > SEEK_DRIFT) {
        follow.currentTime = target;
      } else if (Math.abs(drift) > NUDGE_DRIFT) {
        follow.playbackRate = rate * (drift > 0 ? 0.9 : 1.1);
      } else {
        follow.playbackRate = rate;
      }
    });
    var ticks = [];
    [a, b].forEach(function (video) {
      video.addEventListener("ended", function () {
        if (video !== leader()) return;  // the shorter clip holds its last frame
        if (loop) {
          a.currentTime = 0;
          b.currentTime = 0;
          start(a);
          start(b);
          keepInStep();
          ticks.forEach(function (tick) { tick(); });
        } else {
          running = false;
          follower().pause();
        }
      });
    });
    var api = {
      videos: [a, b],
      fps: parseFloat(a.dataset.fps) || 24,
      playing: function () { return running; },
      play: function () {
        if (leader().ended) leader().currentTime = 0;
        align();
        running = true;
        start(a);
        start(b);
        keepInStep();
        ticks.forEach(function (tick) { tick(); });
      },
      pause: function () {
        running = false;
        a.pause();
        b.pause();
        align();
      },
      time: function () { return leader().currentTime; },
      duration: function () { return Math.max(a.duration || 0, b.duration || 0); },
      seek: function (t) {
        var lead = leader();
        lead.currentTime = clamp(t, 0, lead.duration || t);
        follower().currentTime = followerTime(lead.currentTime);
      },
      looping: function () { return loop; },
      setLoop: function (on) { loop = on; },
      setRate: function (value) { rate = value; a.playbackRate = value; b.playbackRate = value; },
      onTick: function (callback) {
        [a, b].forEach(function (video) {
          ["timeupdate", "seeked", "loadedmetadata", "play", "pause"].forEach(function (name) {
            video.addEventListener(name, callback);
          });
        });
        ticks.push(everyFrame(leader, isRunning, callback));
      },
    };
    return api;
  }

  function step(player, frames) {
    player.pause();
    var fps = player.fps;
    var last = Math.max(Math.ceil(player.duration() * fps) - 1, 0);
    var frame = clamp(frameAt(player.time(), fps) + frames, 0, last);
    // The middle of the frame, so the browser shows that frame and not its neighbour.
    player.seek((frame + 0.5) / fps);
  }

  function toggle(player) {
    if (player.playing()) player.pause();
    else player.play();
  }

  function setPressed(button, on) { button.setAttribute("aria-pressed", on ? "true" : "false"); }

  // The control bar: the same markup and behaviour for one player and for the pair.
  function bind(root, bar, player) {
    var seek = bar.querySelector("[data-seek]");
    var code = bar.querySelector("[data-timecode]");
    var frameLabel = bar.querySelector("[data-frame]");
    var playButton = bar.querySelector('[data-do="play"]');
    var loopButton = bar.querySelector('[data-do="loop"]');
    var seeking = false;

    player.videos.forEach(function (video) {
      video.removeAttribute("controls");
      video.addEventListener("click", function () { toggle(player); });
      if (video.hasAttribute("data-no-download")) {
        video.addEventListener("contextmenu", function (event) { event.preventDefault(); });
      }
    });
    bar.hidden = false;
    var keys = root.querySelector("[data-player-keys]");
    if (keys) keys.hidden = false;
    player.setLoop(loopButton.getAttribute("aria-pressed") === "true");

    function refresh() {
      var t = player.time();
      code.textContent = timecode(t, player.fps);
      if (frameLabel) frameLabel.textContent = "frame " + frameAt(t, player.fps);
      var duration = player.duration();
      if (duration) seek.max = String(duration);
      if (!seeking) seek.value = String(t);
      var playing = player.playing();
      playButton.textContent = playing ? "❚❚" : "▶";
      playButton.setAttribute("aria-label", playing ? "Pause" : "Play");
      root.querySelectorAll("[data-side-timecode]").forEach(function (output, i) {
        output.textContent = timecode(player.videos[i].currentTime, player.fps);
      });
    }
    player.onTick(refresh);
    refresh();

    seek.addEventListener("input", function () { seeking = true; player.seek(parseFloat(seek.value)); });
    seek.addEventListener("change", function () { seeking = false; });
    bar.querySelector("[data-speed]").addEventListener("change", function (event) {
      player.setRate(parseFloat(event.target.value));
    });
    bar.addEventListener("click", function (event) {
      var button = event.target.closest("[data-do]");
      if (!button) return;
      var action = button.dataset.do;
      if (action === "play") toggle(player);
      else if (action === "back") step(player, -1);
      else if (action === "forward") step(player, 1);
      else if (action === "loop") {
        player.setLoop(!player.looping());
        setPressed(button, player.looping());
      } else if (action === "mute") {
        var video = player.videos[0];
        video.muted = !video.muted;
        setPressed(button, video.muted);
      } else if (action === "comment") stamp(player);
    });
    return player;
  }

  // "Comment": pause, write the current frame's time into the comment form, focus it.
  function stamp(player) {
    var form = document.getElementById("comment-form");
    if (!form) return;
    player.pause();
    var ms = Math.round(frameAt(player.time(), player.fps) / player.fps * 1000);
    form.elements.at.value = (ms / 1000).toFixed(3);
    showStamp(form, player);
    form.elements.body.focus();
  }
  function showStamp(form, player) {
    var output = form.querySelector("[data-stamp]");
    var seconds = parseFloat(form.elements.at.value);
    if (output) output.textContent = timecode(isNaN(seconds) ? 0 : seconds, player.fps);
  }

  var active = null;  // the player the keyboard and the comment list drive

  function init() {
    var root = document.querySelector("[data-review-player]");
    if (root) {
      active = bind(root, root.querySelector("[data-player-bar]"), single(root.querySelector("video")));
    }
    var compare = document.querySelector("[data-compare]");
    if (compare) {
      var videos = compare.querySelectorAll("video[data-side]");
      active = bind(compare, compare.querySelector("[data-compare-bar]"), pair(videos[0], videos[1]));
    }
  }

  document.addEventListener("keydown", function (event) {
    if (!active || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    // Never while someone types, and let sliders and lists keep their own keys.
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === " ") {
      if (target.closest && target.closest("button, summary, a")) return;  // they click
      event.preventDefault();
      toggle(active);
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      step(active, event.key === "ArrowLeft" ? -1 : 1);
    } else if (event.key === "l" || event.key === "L") {
      active.setLoop(!active.looping());
      var button = document.querySelector('[data-do="loop"]');
      if (button) setPressed(button, active.looping());
    }
  });

  document.addEventListener("click", function (event) {
    // A comment's timecode: show that frame (its middle, so the right one is painted).
    var chip = event.target.closest("[data-seek-ms]");
    if (chip && active) {
      active.pause();
      active.seek(parseInt(chip.dataset.seekMs, 10) / 1000 + 0.5 / active.fps);
      active.videos[0].scrollIntoView({ block: "nearest", behavior: "smooth" });
      return;
    }
    var sound = event.target.closest("[data-sound]");
    if (sound && active) {
      var video = document.querySelector('video[data-side="' + sound.dataset.sound + '"]');
      video.muted = !video.muted;
      setPressed(sound, !video.muted);
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("#comment-form [name=at]") && active) {
      showStamp(event.target.form, active);
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
