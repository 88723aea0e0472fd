// The volunteer desk: send a message without leaving the page, show new ones as they come,
// and refresh the queue while nobody is typing. Without script, the forms still work.
"use strict";
(function () {
  var list = document.getElementById("messages");
  var form = document.getElementById("write");
  var every = 3000;

  function nonce() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function add(items) {
    items.forEach(function (item) {
      if (list.querySelector('[data-id="' + item.id + '"]')) return;
      var holder = document.createElement("ol");
      holder.innerHTML = item.html; // made and escaped on the server
      list.appendChild(holder.firstElementChild);
      list.dataset.after = String(Math.max(Number(list.dataset.after), item.id));
    });
    if (items.length) list.lastElementChild.scrollIntoView({ block: "nearest" });
  }

  var timer = 0;
  function poll() {
    clearTimeout(timer);
    var url = "/api/desk/requests/" + list.dataset.request + "/messages?after=" + list.dataset.after;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        add(data.messages);
        if (!data.open && form) location.reload();
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .finally(function () { clearTimeout(timer); timer = setTimeout(poll, every); });
  }

  if (list) {
    timer = setTimeout(poll, every);
  }
  if (form && list) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var field = form.elements.text;
      var body = new URLSearchParams({ text: field.value, nonce: form.elements.nonce.value });
      var button = form.querySelector("button");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        body: body,
      })
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
        .then(function (answer) {
          if (!answer.ok) throw new Error(answer.data.error || "");
          field.value = "";
          form.elements.nonce.value = nonce();
          poll(); // show what was just sent at once
          var old = form.querySelector("[role=alert]");
          if (old) old.remove();
        })
        .catch(function (error) {
          var alert = form.querySelector("[role=alert]") || document.createElement("p");
          alert.setAttribute("role", "alert");
          alert.textContent = error.message || list.dataset.notSent;
          form.appendChild(alert);
        })
        .finally(function () { button.disabled = false; field.focus(); });
    });
    form.elements.text.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  var refresh = Number(document.body.dataset.refresh || 0);
  if (refresh) {
    setInterval(function () {
      var busy = document.activeElement && /TEXTAREA|INPUT|SELECT/.test(document.activeElement.tagName);
      if (!busy && document.visibilityState === "visible") location.reload();
    }, refresh * 1000);
  }
})();
