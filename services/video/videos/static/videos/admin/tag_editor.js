// The tag editor on the video's picture (videos.widgets.TagPictureWidget). No build step.
// A click on the picture sets the hotspot (the form's Across/Down, in %); with "Clicks add
// keyframes" on, it also adds a keyframe {t_ms, x, y} (x, y in 0..1, as the API) at the
// time slider's moment. "Preview" plays the path over the tag's span. The server checks
// everything again, with the API's rules.
"use strict";
(function () {
  function clock(milliseconds) {
    const total = Math.max(0, Math.round(milliseconds));
    const minutes = Math.floor(total / 60000);
    const seconds = Math.floor((total % 60000) / 1000);
    const tenths = Math.floor((total % 1000) / 100);
    return minutes + ":" + String(seconds).padStart(2, "0") + (tenths ? "." + tenths : "");
  }

  function numberIn(input) {
    const value = input ? parseFloat(input.value) : NaN;
    return Number.isFinite(value) ? value : null;
  }

  function round(value, digits) {
    const scale = Math.pow(10, digits);
    return Math.round(value * scale) / scale;
  }

  function webUrl(url) {
    return /^https?:\/\//i.test(url || "") ? url : "";
  }

  // Where the hotspot is at t: as videos.selectors.tag_position_at.
  function positionAt(frames, t, still) {
    if (!frames.length) return still;
    if (t < frames[0].t_ms || t > frames[frames.length - 1].t_ms) return null;
    for (let i = 1; i < frames.length; i += 1) {
      const before = frames[i - 1];
      const after = frames[i];
      if (t <= after.t_ms) {
        const share = (t - before.t_ms) / (after.t_ms - before.t_ms || 1);
        return { x: before.x + share * (after.x - before.x), y: before.y + share * (after.y - before.y) };
      }
    }
    return frames[frames.length - 1];
  }

  function setUp(root) {
    const form = root.closest("form");
    const field = (name) => (form ? form.elements.namedItem(name) : null);
    const hidden = root.querySelector("input[type=hidden]");
    const choose = root.querySelector(".tag-picture-choose");
    const editor = root.querySelector(".tag-picture-editor");
    const frame = root.querySelector(".tag-picture-frame");
    const image = root.querySelector(".tag-picture-image");
    const spot = root.querySelector(".tag-picture-spot");
    const dots = root.querySelector(".tag-picture-dots");
    const slider = root.querySelector(".tag-picture-time");
    const clockOut = root.querySelector(".tag-picture-clock");
    const length = root.querySelector(".tag-picture-length");
    const addKeyframes = root.querySelector(".tag-picture-add-keyframes");
    const previewButton = root.querySelector(".tag-picture-preview");
    const clearButton = root.querySelector(".tag-picture-clear");
    const list = root.querySelector(".tag-picture-keyframes");
    const none = root.querySelector(".tag-picture-no-keyframes");
    let duration = Number(root.dataset.duration) || 0;
    let playing = null;

    // A value the server refused (not a list) stays as it was until the user edits.
    let keyframes = [];
    try {
      const parsed = JSON.parse(hidden.value || "[]");
      if (Array.isArray(parsed)) keyframes = parsed.filter((f) => f && typeof f === "object");
    } catch (error) {
      keyframes = [];
    }

    function save() {
      keyframes.sort((a, b) => a.t_ms - b.t_ms);
      hidden.value = JSON.stringify(keyframes);
    }

    function span() {
      const start = numberIn(field("start_seconds"));
      const end = numberIn(field("end_seconds"));
      return { start: start === null ? 0 : start * 1000, end: end === null ? duration : end * 1000 };
    }

    function still() {
      const x = numberIn(field("x_percent"));
      const y = numberIn(field("y_percent"));
      return x === null || y === null ? null : { x: x / 100, y: y / 100 };
    }

    function place(element, point) {
      element.style.left = point.x * 100 + "%";
      element.style.top = point.y * 100 + "%";
    }

    function draw() {
      const t = Number(slider.value);
      const shown = span();
      const at = t >= shown.start && t <= shown.end ? positionAt(keyframes, t, still()) : null;
      spot.hidden = !at;
      if (at) place(spot, at);
      clockOut.textContent = clock(t);
      length.textContent = clock(duration);
      dots.replaceChildren();
      list.replaceChildren();
      keyframes.forEach((keyframe, index) => {
        const dot = document.createElement("span");
        dot.className = "tag-picture-dot";
        dot.title = clock(keyframe.t_ms);
        place(dot, keyframe);
        dots.append(dot);
        const item = document.createElement("li");
        item.textContent =
          clock(keyframe.t_ms) + " at (" + round(keyframe.x * 100, 2) + "%, " + round(keyframe.y * 100, 2) + "%)";
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button";
        remove.textContent = "Remove";
        remove.addEventListener("click", () => {
          keyframes.splice(index, 1);
          save();
          draw();
        });
        item.append(remove);
        list.append(item);
      });
      none.hidden = keyframes.length > 0;
      clearButton.disabled = keyframes.length === 0;
    }

    function showVideo(thumbnail, milliseconds) {
      duration = milliseconds;
      slider.max = String(milliseconds);
      if (Number(slider.value) > milliseconds) slider.value = String(milliseconds);
      const src = webUrl(thumbnail);
      if (src) image.src = src;
      else image.removeAttribute("src");
      frame.classList.toggle("tag-picture-no-image", !src);
      editor.hidden = !milliseconds;
      choose.hidden = Boolean(milliseconds);
      draw();
    }

    frame.addEventListener("click", (event) => {
      const box = frame.getBoundingClientRect();
      if (!box.width || !box.height) return;
      // Not clamped: the server refuses a spot outside the picture, with a message.
      const point = {
        x: round((event.clientX - box.left) / box.width, 4),
        y: round((event.clientY - box.top) / box.height, 4),
      };
      const across = field("x_percent");
      const down = field("y_percent");
      if (across) across.value = (point.x * 100).toFixed(2);
      if (down) down.value = (point.y * 100).toFixed(2);
      if (addKeyframes.checked) {
        const t = Number(slider.value);
        keyframes = keyframes.filter((keyframe) => keyframe.t_ms !== t);
        keyframes.push({ t_ms: t, x: point.x, y: point.y });
        save();
      }
      draw();
    });

    clearButton.addEventListener("click", () => {
      keyframes = [];
      save();
      draw();
    });

    function stop() {
      if (playing !== null) cancelAnimationFrame(playing);
      playing = null;
      previewButton.textContent = "Preview";
    }

    previewButton.addEventListener("click", () => {
      if (playing !== null) {
        stop();
        return;
      }
      const shown = span();
      const from = Math.max(0, shown.start);
      const to = Math.min(duration, Math.max(from, shown.end));
      const began = performance.now();
      previewButton.textContent = "Stop";
      const step = (now) => {
        const t = Math.min(to, from + (now - began));
        slider.value = String(Math.round(t));
        draw();
        if (t < to) playing = requestAnimationFrame(step);
        else stop();
      };
      playing = requestAnimationFrame(step);
    });

    slider.addEventListener("input", draw);
    ["start_seconds", "end_seconds", "x_percent", "y_percent"].forEach((name) => {
      const input = field(name);
      if (input) input.addEventListener("input", draw);
    });

    slider.value = String(Math.min(duration, span().start));

    // The add page: the picture of the video chosen above (its option carries it).
    const video = field("video");
    if (video && video.tagName === "SELECT") {
      const chosen = () => {
        const option = video.selectedOptions[0];
        if (option && option.value) {
          showVideo(option.dataset.thumbnail || "", Number(option.dataset.duration) || 0);
        } else {
          showVideo("", 0);
        }
      };
      video.addEventListener("change", chosen);
      chosen();
    } else {
      draw();
    }
  }

  function setUpAll() {
    document.querySelectorAll(".tag-picture").forEach(setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUpAll);
  else setUpAll();
})();
