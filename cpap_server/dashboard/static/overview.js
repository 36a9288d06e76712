// Ward overview: one tile per room from /api/v1/rooms, refreshed in place (no page reload).
(function () {
  "use strict";
  var APNEA_ALERT = 2;
  var main, list, tiles = {}, rooms = [], totals = {}, clockOffset = 0, lastOk = null;
  var busy = false;

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function fact(label, field, unit) {
    var wrap = make("div", "fact fact-" + field), dd = make("dd");
    wrap.appendChild(make("dt", "", label));
    dd.appendChild(make("span", "value", "–"));
    if (unit) { dd.appendChild(make("span", "unit", " " + unit)); }
    wrap.appendChild(dd);
    return wrap;
  }

  // The tile's structure is built once; refreshes only change text, so keyboard focus stays put.
  function buildTile(number) {
    var item = make("li", "tile"), article = make("article"), head = make("header");
    var heading = make("h2"), link = make("a", "room-link", "Room " + number);
    item.dataset.room = number;
    article.setAttribute("aria-labelledby", "room-" + number + "-name");
    heading.id = "room-" + number + "-name";
    link.href = main.dataset.roomUrl + number;
    heading.appendChild(link);
    head.appendChild(heading);
    var badges = make("p", "badges");
    badges.appendChild(make("strong", "badge alert", "Apnea alert"));
    badges.appendChild(make("strong", "badge stale", "Stale"));
    head.appendChild(badges);
    article.appendChild(head);
    var patient = make("p", "patient");
    patient.appendChild(make("span", "name"));
    patient.appendChild(make("span", "mrn"));
    article.appendChild(patient);
    var facts = make("dl", "facts");
    facts.appendChild(fact("CPAP", "pressure", "cmH2O"));
    facts.appendChild(fact("Breath rate", "rate", "/min"));
    facts.appendChild(fact("Apnea count", "apnea"));
    facts.appendChild(fact("Apneas this stay", "total"));
    article.appendChild(facts);
    article.appendChild(make("p", "updated"));
    article.appendChild(make("p", "commanded"));
    item.appendChild(article);
    return item;
  }

  function setValue(tile, field, value) {
    tile.querySelector(".fact-" + field + " .value").textContent = value;
  }

  function ago(seconds) {
    if (seconds < 10) { return "just now"; }
    if (seconds < 60) { return Math.floor(seconds) + " s ago"; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + " min ago"; }
    if (seconds < 86400) {
      return Math.floor(seconds / 3600) + " h " + Math.floor(seconds % 3600 / 60) + " min ago";
    }
    return Math.floor(seconds / 86400) + " d ago";
  }

  function clockTime(iso) {
    return new Date(iso).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
  }

  // Ages use the server's clock (from the Date header), so a wrong PC clock cannot hide staleness.
  function ageOf(iso) { return (Date.now() + clockOffset - Date.parse(iso)) / 1000; }

  function renderTile(tile, room) {
    var patient = room.patient, latest = room.latest_measurement;
    var total = patient && totals[room.room_number];
    var staleAfter = Number(main.dataset.staleSeconds);
    var since = latest ? latest.recorded_at : patient && patient.stay_started_at;
    var age = since ? ageOf(since) : 0;
    var alert = Boolean(patient && latest && latest.apnea_count >= APNEA_ALERT);
    var stale = Boolean(patient && since && age > staleAfter);
    tile.classList.toggle("empty", !patient);
    tile.classList.toggle("alert", alert);
    tile.classList.toggle("stale", stale);
    tile.querySelector(".badge.alert").hidden = !alert;
    tile.querySelector(".badge.stale").hidden = !stale;
    tile.querySelector(".name").textContent = patient ? (patient.name || "Name not provided") :
      "No patient";
    tile.querySelector(".mrn").textContent = patient ? "MRN " + patient.mrn : "";
    tile.querySelector(".facts").hidden = !patient;
    setValue(tile, "pressure", latest ? latest.cpap_pressure : "–");
    setValue(tile, "rate", latest ? Number(latest.breath_rate).toFixed(1) : "–");
    setValue(tile, "apnea", latest ? latest.apnea_count : "–");
    setValue(tile, "total", total && total.stay_id === patient.stay_id ? total.apnea_total : "–");
    var updated = tile.querySelector(".updated");
    updated.hidden = !patient;
    updated.textContent = !patient ? "" : latest ?
      (stale ? "No upload for " : "Last upload ") + ago(age).replace(" ago", stale ? "" : " ago") +
        " (" + clockTime(latest.recorded_at) + ")" :
      "No recordings yet (admitted " + clockTime(patient.stay_started_at) + ")";
    var command = room.commanded_cpap_pressure, commanded = tile.querySelector(".commanded");
    var pending = Boolean(patient && command && (!latest ||
      Date.parse(command.commanded_at) > Date.parse(latest.recorded_at)));
    commanded.hidden = !pending;
    commanded.textContent = pending ? "Commanded " + command.cpap_pressure + " cmH2O, pending since " +
      clockTime(command.commanded_at) : "";
  }

  function render() {
    var seen = {}, alerts = 0, stale = 0, added = [];
    rooms.forEach(function (room, index) {
      var tile = tiles[room.room_number];
      seen[room.room_number] = true;
      if (!tile) {
        tile = tiles[room.room_number] = buildTile(room.room_number);
        if (lastOk) { added.push(room.room_number); }
      }
      // Keep room order; an element already in place is not moved (moving would drop focus).
      if (list.children[index] !== tile) { list.insertBefore(tile, list.children[index] || null); }
      renderTile(tile, room);
      if (tile.classList.contains("alert")) { alerts += 1; }
      if (tile.classList.contains("stale")) { stale += 1; }
    });
    Object.keys(tiles).forEach(function (number) {
      if (!seen[number]) { tiles[number].remove(); delete tiles[number]; }
    });
    var summary = rooms.length + (rooms.length === 1 ? " room" : " rooms") + " · " + alerts +
      (alerts === 1 ? " apnea alert" : " apnea alerts") + " · " + stale + " stale";
    if (added.length) { summary += " · new: room " + added.join(", room "); }
    document.getElementById("summary").textContent = summary;
    document.title = (alerts ? "(" + alerts + " alert) " : "") + "Ward overview · CPAP ward";
  }

  async function getJson(url) {
    var response = await fetch(url, {credentials: "same-origin",
                                     headers: {"Accept": "application/json"}});
    if (response.status === 401) {
      window.location.assign("/dashboard/login?next=/");
      throw new Error("signed out");
    }
    if (!response.ok) { throw new Error("HTTP " + response.status + " from " + url); }
    var date = Date.parse(response.headers.get("Date"));
    if (!isNaN(date)) { clockOffset = date - Date.now(); }
    return response.json();
  }

  async function refresh() {
    var banner = document.getElementById("connection");
    if (busy) { return; }  // a slow server must not pile up requests
    busy = true;
    try {
      var both = await Promise.all([getJson(main.dataset.roomsUrl), getJson(main.dataset.totalsUrl)]);
      rooms = both[0].rooms;
      totals = both[1].rooms;
      render();
      lastOk = new Date();
      banner.hidden = true;
      main.dataset.updatedAt = lastOk.toISOString();
    } catch (err) {
      banner.textContent = "Cannot reach the server (" + err.message + "). " +
        (lastOk ? "Showing data from " + lastOk.toLocaleTimeString() + "." : "");
      banner.hidden = false;
    } finally {
      busy = false;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    main = document.getElementById("main");
    list = document.getElementById("rooms");
    refresh();
    window.setInterval(refresh, Number(main.dataset.refreshSeconds) * 1000);
    // Ages and stale marks move on between fetches.
    window.setInterval(function () { if (lastOk) { render(); } }, 1000);
  });
})();
