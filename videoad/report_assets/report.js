// videoad report: ships with the package, copied beside index.html; no network, no library.
// Clicking an event (table row or card) plays its clip from the event's start in the viewer and
// marks it on the video's timelines; column headers sort the table. The keyboard does the same:
// each row's number and each header title are buttons, a card takes Enter or Space.
(function () {
  "use strict";
  var $ = function (s, el) { return (el || document).querySelector(s); };
  var $$ = function (s, el) { return Array.prototype.slice.call((el || document).querySelectorAll(s)); };
  var player = $("#player"), caption = $("#viewer-caption"), heat = $("#viewer-heat");
  var vtl = $("#viewer-tl"), current = null, pending = null;

  function place(box, x0, x1) {  // a mark over [x0, x1] (timeline units) on a .tl box
    var d = box.dataset, w = parseFloat(d.right) - parseFloat(d.left), xmax = parseFloat(d.xmax);
    var m = $(".mark", box);
    m.style.left = 100 * (parseFloat(d.left) + w * x0 / xmax) + "%";
    m.style.width = Math.max(0.4, 100 * w * (x1 - x0) / xmax) + "%";
    m.style.top = 100 * parseFloat(d.top) + "%";
    m.style.height = 100 * (parseFloat(d.bottom) - parseFloat(d.top)) + "%";
    m.style.display = "block";
  }

  function playhead(x) {
    if (!current || !vtl) return;
    var d = vtl.dataset, w = parseFloat(d.right) - parseFloat(d.left), h = $(".playhead", vtl);
    h.style.left = 100 * (parseFloat(d.left) + w * x / parseFloat(d.xmax)) + "%";
    h.style.top = 100 * parseFloat(d.top) + "%";
    h.style.height = 100 * (parseFloat(d.bottom) - parseFloat(d.top)) + "%";
    h.style.display = "block";
  }

  function select(row, play) {
    var d = row.dataset, id = d.event;
    current = row;
    $$(".sel").forEach(function (el) { el.classList.remove("sel"); el.removeAttribute("aria-current"); });
    $$('[data-event="' + id + '"]').forEach(function (el) {
      el.classList.add("sel");
      el.setAttribute("aria-current", "true");  // said by a screen reader, as the colour is seen
    });
    var video = $("td.name", row) ? $("td.name", row).dataset.v : "";
    player.setAttribute("aria-label", "E" + id + ": " + video + (d.clip ? ", its clip" : ", no clip"));
    $$(".video .tl .mark").forEach(function (m) { m.style.display = "none"; });
    caption.innerHTML = d.caption;
    if (heat) {
      if (d.image) { heat.src = d.image; } else { heat.removeAttribute("src"); }
      heat.alt = "E" + id + ": peak frame with heat map";
      var link = $("#viewer-heat-link");
      if (link) { if (d.image) { link.href = d.image; } else { link.removeAttribute("href"); } }
    }
    var section = document.getElementById(d.section);
    if (section) section.classList.add("sel");
    var box = section && $(".tl", section);
    if (box) { place(box, +d.x0, +d.x1); }
    if (vtl && box) {
      ["left", "right", "top", "bottom", "xmax"].forEach(function (k) { vtl.dataset[k] = box.dataset[k]; });
      $("img", vtl).src = $("img", box).src;
      $("img", vtl).alt = $("img", box).alt + ", E" + id + " marked";  // which video's, not "timeline"
      var tlLink = $("#viewer-tl-link");
      if (tlLink) tlLink.href = $("img", box).getAttribute("src");
      place(vtl, +d.x0, +d.x1);
      $(".playhead", vtl).style.display = "none";
    }
    pending = null;
    if (!d.clip) { player.removeAttribute("src"); player.load(); return; }
    pending = { from: parseFloat(d.playFrom), play: play };
    // a clip that failed before is tried again (its file may be back); one listener starts the clip
    // being loaded, so that a clip chosen while another loaded does not start at the other's time
    if (player.getAttribute("src") !== d.clip || player.error) {
      player.setAttribute("src", d.clip);
      player.load();
    } else { start(); }
    if (play && history.replaceState) history.replaceState(null, "", "#E" + id);
  }

  function start() {  // the chosen event's clip, from the event's start
    var p = pending;
    pending = null;
    if (!p) return;
    player.currentTime = p.from;
    if (p.play) { var pr = player.play(); if (pr && pr.catch) pr.catch(function () {}); }
  }

  // a clip that cannot be played (its file gone from a copied report, a format this browser does
  // not play) left a black box and no word; the caption (read out: aria-live) says so now
  function failed() {
    pending = null;
    var src = player.getAttribute("src");
    if (!current || !src || $(".clip-error", caption)) return;
    var note = document.createElement("span");
    note.className = "note clip-error";
    note.textContent = "The clip " + src + " cannot be played here" + (player.error && player.error.code === 3 ?
      " (it does not decode)" : ": its file is missing, or this browser does not play its format") + ".";
    caption.appendChild(document.createElement("br"));
    caption.appendChild(note);
  }

  // the timeline's x at time t of an event's clip: at one rate a straight line; for a video whose
  // frames keep no one rate, between the places of the clip's frames (data-knots, every
  // knot-step-th frame and the clip's end), as the timeline places those frames
  function clipToX(d, t) {
    if (!d.knots) return parseFloat(d.clipX) + t * parseFloat(d.rate);
    var xs = d.knots.split(",").map(parseFloat), step = parseFloat(d.knotStep);
    var n = parseFloat(d.clipFrames), at = Math.max(0, Math.min(n, t * parseFloat(d.clipFps)));
    var i = Math.min(Math.floor(at / step), xs.length - 2);
    var from = i * step, to = Math.min(n, from + step);
    return xs[i] + (xs[i + 1] - xs[i]) * (to > from ? Math.min(1, (at - from) / (to - from)) : 0);
  }
  window.videoadClipToX = clipToX;  // for tests

  if (player) {  // no viewer on a page without events
    player.addEventListener("loadedmetadata", start);
    player.addEventListener("error", failed);
    player.addEventListener("timeupdate", function () {
      if (!current) return;
      playhead(clipToX(current.dataset, player.currentTime));
    });
  }

  var table = $("table.events");
  var rows = table ? $$("tbody tr", table) : [];
  rows.forEach(function (r) { r.addEventListener("click", function () { select(r, true); }); });
  $$(".card").forEach(function (c) {
    var open = function () {
      var r = $('table.events tr[data-event="' + c.dataset.event + '"]');
      if (r) { select(r, true); $("#viewer").scrollIntoView({ behavior: "smooth", block: "start" }); }
    };
    c.addEventListener("click", open);
    c.addEventListener("keydown", function (ev) {  // role=button: Enter and Space press it
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); open(); }
    });
  });

  // a click on the header's button (a mouse, or Enter or Space on it) sorts by its column
  $$("th[data-sort]", table || document).forEach(function (th, col) {
    th.addEventListener("click", function () {
      var idx = Array.prototype.indexOf.call(th.parentNode.children, th);
      var asc = !th.classList.contains("asc");
      $$("th", th.parentNode).forEach(function (h) { h.classList.remove("asc", "desc"); h.removeAttribute("aria-sort"); });
      th.classList.add(asc ? "asc" : "desc");
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var num = th.dataset.sort === "num", body = $("tbody", table);
      $$("tr", body).sort(function (a, b) {
        var x = a.children[idx].dataset.v || a.children[idx].textContent;
        var y = b.children[idx].dataset.v || b.children[idx].textContent;
        var c = num ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
        return asc ? c : -c;
      }).forEach(function (r) { body.appendChild(r); });
    });
  });

  // a dataset's run: 2,000 videos and as many events, narrowed by what their text holds
  $$("input[data-filter]").forEach(function (box) {
    var what = box.dataset.filter, count = $('[data-count="' + what + '"]');
    var items = what === "events" ? rows : $$("section.video");
    box.addEventListener("input", function () {
      var q = box.value.trim().toLowerCase(), shown = 0;
      items.forEach(function (el) {
        var text = (el.textContent + " " + (el.dataset.find || "")).toLowerCase();  // cells, category, group
        var hit = !q || text.indexOf(q) >= 0;
        el.style.display = hit ? "" : "none";
        if (hit) shown += 1;
      });
      count.textContent = q ? shown + " of " + items.length + " " + what : items.length + " " + what;
    });
  });

  var wanted = location.hash.match(/^#E(\d+)$/);
  var first = wanted ? $('table.events tr[data-event="' + wanted[1] + '"]') : rows[0];
  if (first) select(first, false);
})();
