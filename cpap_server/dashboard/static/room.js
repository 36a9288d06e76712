// Room page: swap the chosen flow image without a reload; command a pressure through /api/v1.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  function el(id) { return document.getElementById(id); }

  function showChosen(select) {
    var option = select.selectedOptions[0];
    if (!option || option.disabled) { return; }
    var image = el("chosen-image"), link = el("chosen-download");
    image.src = option.dataset.imageUrl;
    image.alt = "Flow curve recorded " + option.dataset.label;
    image.hidden = false;
    link.href = option.dataset.imageUrl;
    link.setAttribute("download", option.dataset.download);
    link.hidden = false;
    el("chosen-caption").textContent = option.dataset.label;
    var url = new URL(window.location.href);
    url.searchParams.set("at", option.value);
    window.history.replaceState(null, "", url);
  }

  function say(kind, text) {
    var result = el("command-result"), p = document.createElement("p");
    p.className = kind === "ok" ? "status-ok" : "status-error";
    p.textContent = text;
    result.replaceChildren(p);
  }

  function errorText(status, body) {
    if (status === 401) { return "Your session has ended: reload the page and sign in again."; }
    if (body && body.errors && body.errors.cpap_pressure) {
      return "Not commanded: CPAP pressure " + body.errors.cpap_pressure.join("; ");
    }
    return "Not commanded: " + ((body && body.message) || "the server answered " + status);
  }

  async function command(form) {
    var value = form.elements.cpap_pressure.value.trim();
    var button = form.querySelector("button");
    button.disabled = true;
    try {
      var response = await fetch(form.dataset.apiUrl, {
        method: "PUT", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json",
                  "X-CSRF-Token": csrf},
        body: JSON.stringify({cpap_pressure: value === "" ? null : Number(value)})
      });
      var body = await response.json().catch(function () { return null; });
      if (!response.ok) { say("error", errorText(response.status, body)); return; }
      var at = new Date(body.commanded_at).toLocaleTimeString([], {hourCycle: "h23"});
      say("ok", "Commanded " + body.cpap_pressure + " cmH2O for room " + body.room_number +
          " at " + at);
      el("commanded").textContent = body.cpap_pressure + " cmH2O at " + at + " ";
      var badge = document.createElement("strong");
      badge.className = "badge pending";
      badge.textContent = "pending";
      el("commanded").appendChild(badge);
    } catch (err) {
      say("error", "Not commanded: the server could not be reached (" + err.message + ")");
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var picker = el("picker");
    if (picker) {
      var select = picker.querySelector("select");
      select.addEventListener("change", function () { showChosen(select); });
      picker.addEventListener("submit", function (event) {
        event.preventDefault();
        showChosen(select);
      });
    }
    var form = el("command-form");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        command(form);
      });
    }
  });
})();
