// videoad report: ships with the package, copied beside index.html; no network, no library.
// Clicking an event (table row or card) plays its clip from the event's start in the viewer and
// marks it on the video's timelines; column headers sort the table. The keyboard does the same:
// each header title is a button; the rows (their numbers, buttons) are one tab stop and the cards
// (role=button) another, the arrow keys moving along each (WAI-ARIA's roving tabindex: a dataset's
// 4,550 events were 9,100 tab stops), Enter or Space pressing the event there.
(function () {
  "use strict";
  var $ = function (s, el) { return (el || document).querySelector(s); };
  var $$ = function (s, el) { return Array.prototype.slice.call((el || document).querySelectorAll(s)); };
  var player = $("#player"), caption = $("#viewer-caption"), heatLink = $("#viewer-heat-link");
  var vtl = $("#viewer-tl"), current = null, pending = null, rowStops = null, cardStops = null;

  function place(box, x0, x1) {  // a mark over [x0, x1] (timeline units) on a .tl box
    var d = box.dataset, w = parseFloat(d.right) - parseFloat(d.left), xmax = parseFloat(d.xmax);
    var m = $(".mark", box);
    m.style.left = 100 * (parseFloat(d.left) + w * x0 / xmax) + "%";
    m.style.width = Math.max(0.4, 100 * w * (x1 - x0) / xmax) + "%";
    m.style.top = 100 * parseFloat(d.top) + "%";
    m.style.height = 100 * (parseFloat(d.bottom) - parseFloat(d.top)) + "%";
    m.style.display = "block";
  }

  // the viewer's picture in `box`, made as an event is first chosen: written in the page, an <img>
  // without src is invalid HTML (v.Nu), and one with a src loads before any event is chosen
  function picture(box, id) {
    var img = $("img", box);
    if (img) return img;
    img = document.createElement("img");
    if (id) img.id = id;
    box.insertBefore(img, box.firstChild);  // under the marks drawn over it
    return img;
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
    var d = row.dataset, id = d.event, label = d.label;  // the name of its files (E001)
    current = row;
    $$(".sel").forEach(function (el) { el.classList.remove("sel"); el.removeAttribute("aria-current"); });
    $$('[data-event="' + id + '"]').forEach(function (el) {
      el.classList.add("sel");
      el.setAttribute("aria-current", "true");  // said by a screen reader, as the colour is seen
    });
    if (rowStops) {  // the keyboard comes back to the chosen event, in the table and in the pictures
      rowStops.offer($("button.play", row));
      cardStops.offer($('div.card[data-event="' + id + '"]'));
    }
    var video = $("td.name", row) ? $("td.name", row).dataset.v : "";
    player.setAttribute("aria-label", label + ": " + video + (d.clip ? ", its clip" : ", no clip"));
    $$(".video .tl .mark").forEach(function (m) { m.style.display = "none"; });
    caption.innerHTML = d.caption;
    if (heatLink) {
      var heat = picture(heatLink, "viewer-heat");
      if (d.image) { heat.src = d.image; } else { heat.removeAttribute("src"); }
      heat.alt = label + ": peak frame with heat map";
      // a new tab, so that the page keeps its place; `target` only beside an `href` (HTML's rule)
      if (d.image) { heatLink.href = d.image; heatLink.target = "_blank"; }
      else { heatLink.removeAttribute("href"); heatLink.removeAttribute("target"); }
    }
    var section = document.getElementById(d.section);
    if (section) section.classList.add("sel");
    var box = section && $(".tl", section);
    if (box) { place(box, +d.x0, +d.x1); }
    if (vtl && box) {
      ["left", "right", "top", "bottom", "xmax"].forEach(function (k) { vtl.dataset[k] = box.dataset[k]; });
      var tlImg = picture(vtl);
      tlImg.src = $("img", box).src;
      tlImg.alt = $("img", box).alt + ", " + label + " marked";  // which video's, not "timeline"
      var tlLink = $("#viewer-tl-link");
      if (tlLink) { tlLink.href = $("img", box).getAttribute("src"); tlLink.target = "_blank"; }
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
  // frames keep no one rate, between the places of the clip's frames (data-knots at data-knot-frames,
  // counted from the clip's first: every few frames, both sides of each pause in the recording, which
  // share a frame so that the playhead jumps the pause, and the clip's end), as the timeline places them
  function clipToX(d, t) {
    if (!d.knots) return parseFloat(d.clipX) + t * parseFloat(d.rate);
    var xs = d.knots.split(",").map(parseFloat), fs = d.knotFrames.split(",").map(parseFloat);
    var n = parseFloat(d.clipFrames), at = Math.max(0, Math.min(n, t * parseFloat(d.clipFps)));
    var i = 0;
    while (i < xs.length - 2 && fs[i + 1] <= at) i++;  // the last knot at or before it (after a pause: its far side)
    var from = fs[i], to = fs[i + 1];
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

  // One tab stop for a list of items (WAI-ARIA's roving tabindex): the item with tabindex=0, the
  // others -1. It is the item last moved to or chosen, so that Tab comes back there; an item hidden
  // by a filter hands it to the nearest one shown. items(): the list in its order now (a sort moves
  // the rows); shown(el): not filtered out; keys: a key's name -> function (list, at) -> the index
  // to move to (the list of the items shown, at: the focused one's place in it).
  function stops(items, shown, keys) {
    var stop = items().filter(function (el) { return el.tabIndex === 0; })[0] || null;
    function set(el) {
      if (!el || el === stop) return;
      if (stop) stop.tabIndex = -1;
      stop = el;
      el.tabIndex = 0;
    }
    return {
      offer: function (el) { if (el && shown(el)) set(el); },
      mend: function () {  // after a filter: a stop hidden goes to the next item shown (else the one before)
        if (!stop || shown(stop)) return;
        var all = items(), at = all.indexOf(stop), i;
        for (i = at + 1; i < all.length; i++) if (shown(all[i])) return set(all[i]);
        for (i = at - 1; i >= 0; i--) if (shown(all[i])) return set(all[i]);
      },
      key: function (ev) {
        var go = keys[ev.key];
        if (!go || ev.altKey || ev.metaKey || ev.shiftKey) return;
        var list = items().filter(shown), at = list.indexOf(ev.target);
        if (at < 0) return;
        ev.preventDefault();  // the page does not scroll as well
        var to = list[Math.max(0, Math.min(list.length - 1, go(list, at)))];
        set(to);
        if (to !== ev.target) to.focus();
      }
    };
  }
  var toFirst = function () { return 0; }, toLast = function (list) { return list.length - 1; };
  var toNext = function (list, at) { return at + 1; }, toPrev = function (list, at) { return at - 1; };

  var table = $("table.events");
  var rows = table ? $$("tbody tr", table) : [];
  if (table) {
    var scroller = table.closest(".events-scroll") || table;
    // a page: as many rows as the scrolled box shows, less one (the one moved from stays in sight)
    var page = function (list, at) {
      var tr = list[at].closest("tr");
      return Math.max(1, Math.floor(scroller.clientHeight / Math.max(1, tr.offsetHeight)) - 1);
    };
    var body = $("tbody", table);
    rowStops = stops(function () { return $$("button.play", body); },
                     function (b) { return b.closest("tr").style.display !== "none"; },
                     { ArrowDown: toNext, ArrowUp: toPrev, Home: toFirst, End: toLast,
                       PageDown: function (list, at) { return at + page(list, at); },
                       PageUp: function (list, at) { return at - page(list, at); } });
    body.addEventListener("keydown", rowStops.key);
  }
  // the pictures, a video's after another: Left and Right as Up and Down; Page Down and Up go to the
  // next video's first picture, and to this (else the previous) video's first
  var section = function (card) { return card.closest("section.video"); };
  cardStops = stops(function () { return $$("div.card"); },
                    function (c) { return !section(c) || section(c).style.display !== "none"; },
                    { ArrowDown: toNext, ArrowRight: toNext, ArrowUp: toPrev, ArrowLeft: toPrev,
                      Home: toFirst, End: toLast,
                      PageDown: function (list, at) {
                        var i = at;
                        while (i < list.length && section(list[i]) === section(list[at])) i++;
                        return i < list.length ? i : at;
                      },
                      PageUp: function (list, at) {
                        var i = at;
                        if (i > 0 && section(list[i - 1]) === section(list[at])) {  // this video's first
                          while (i > 0 && section(list[i - 1]) === section(list[at])) i--;
                          return i;
                        }
                        i = Math.max(0, at - 1);  // else the previous video's first
                        while (i > 0 && section(list[i - 1]) === section(list[at - 1])) i--;
                        return i;
                      } });
  document.addEventListener("keydown", function (ev) {
    if (ev.target.classList && ev.target.classList.contains("card")) cardStops.key(ev);
  });
  // focus that comes another way (a click, a screen reader's cursor) moves the stop there too
  document.addEventListener("focusin", function (ev) {
    var el = ev.target;
    if (!el.classList) return;
    if (el.classList.contains("play") && rowStops) rowStops.offer(el);
    else if (el.classList.contains("card")) cardStops.offer(el);
  });
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
      (what === "events" ? rowStops : cardStops).mend();  // one tab stop among those shown
    });
  });

  var wanted = location.hash.match(/^#E(\d+)$/);
  var first = wanted ? $('table.events tr[data-event="' + wanted[1] + '"]') : rows[0];
  if (first) select(first, false);
})();
