// The desktop's few lines of script: clear a shown problem when the user acts again, drop an alert the
// list already shows, and hand the current contact to the search and create forms (so that a result can be
// confirmed, a new account linked).
(function () {
  "use strict";
  function problemArea() { return document.getElementById("problem"); }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-dismiss-problem]")) {
      problemArea().innerHTML = "";
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail.elt;
    if (source && !source.closest("[data-poll]") && problemArea()) {
      problemArea().innerHTML = "";
    }
  });

  document.addEventListener("htmx:sseBeforeMessage", function (event) {
    if (event.detail.type !== "alert") { return; }
    var holder = document.createElement("template");
    holder.innerHTML = event.detail.data || "";
    var incoming = holder.content.firstElementChild;
    if (incoming && incoming.id && document.getElementById(incoming.id)) {
      event.preventDefault();
    }
  });

  // The open alerts, read every few seconds besides the live stream: an alert the stream could not deliver
  // (or raised before the page opened) still appears; one already shown is not added twice.
  document.addEventListener("htmx:afterSwap", function (event) {
    var holder = event.detail.target;
    var into = holder && holder.getAttribute && document.getElementById(holder.getAttribute("data-merge-into") || "");
    if (!into) { return; }
    var incoming = holder.querySelectorAll("li[id]");
    for (var i = incoming.length - 1; i >= 0; i--) {
      var shown = into.querySelector("#" + CSS.escape(incoming[i].id));
      if (!shown) { into.insertBefore(incoming[i], into.firstChild); }
    }
    holder.innerHTML = "";  // what was not moved is shown already
  });

  function shareCurrentContact() {
    var current = document.getElementById("current-contact");
    var field = document.getElementById("search-contact-id");
    if (current && field) {
      field.value = current.getAttribute("data-contact-id") || "";
    }
    var fields = document.querySelectorAll("[data-current-contact-field]");
    for (var i = 0; i < fields.length; i++) {
      fields[i].value = current ? (current.getAttribute("data-contact-id") || "") : "";
    }
  }
  // after a swap, and after a current contact pushed over the live stream
  document.addEventListener("htmx:afterSwap", shareCurrentContact);
  document.addEventListener("htmx:sseMessage", shareCurrentContact);

  document.addEventListener("htmx:sendError", function () {
    var area = problemArea();
    if (area) {
      area.innerHTML = '<div class="problem" data-testid="problem"><h2 class="problem-title">The desktop did not answer</h2>' +
        '<p class="problem-detail">Check the connection; the page retries on your next action.</p></div>';
    }
  });
})();
