// The advisor's live chat: events arrive as server-sent events (EventSource
// resumes after the last id by itself), messages go out with fetch and the
// page's CSRF token. Member text is always shown as text, never as HTML.
(function () {
  "use strict";

  var TYPING_EVERY_MS = 3000;
  var box = document.getElementById("handover-chat");
  if (!box) { return; }
  var log = document.getElementById("live-log");
  var typingNote = document.getElementById("member-typing");
  var form = document.getElementById("live-form");
  var seen = {};
  Array.prototype.forEach.call(log.querySelectorAll("li[data-seq]"), function (item) {
    seen[item.getAttribute("data-seq")] = true;
  });
  var lastTyping = 0;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      body: data,
      headers: { "X-CSRF-Token": csrfToken(), "X-Admin-Fragment": "1" },
      credentials: "same-origin",
    });
  }

  function show(event) {
    if (seen[event.seq]) { return; }
    seen[event.seq] = true;
    var item = document.createElement("li");
    item.setAttribute("data-seq", event.seq);
    item.className = "event-" + event.kind;
    if (event.author !== "system") {
      var who = document.createElement("strong");
      who.textContent = (event.author === "member" ? box.dataset.textMember : event.advisor) + ": ";
      item.appendChild(who);
    }
    item.appendChild(document.createTextNode(event.text || ""));
    log.appendChild(item);
    item.scrollIntoView({ block: "nearest" });
  }

  var after = box.dataset.lastSeq || "0";
  var source = new EventSource(box.dataset.stream + "?after=" + encodeURIComponent(after));
  source.addEventListener("handover", function (message) {
    show(JSON.parse(message.data));
  });
  source.addEventListener("status", function (message) {
    var status = JSON.parse(message.data);
    typingNote.hidden = !status.member_typing;
    if (!status.held && form) {
      // Ended, handed back or lost: reload to show the page as it now is.
      window.location.reload();
    }
  });

  if (!form) { return; }
  var text = document.getElementById("live-text");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!text.value.trim()) { return; }
    var data = new FormData();
    data.append("text", text.value);
    post(box.dataset.send, data).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (sent) {
      text.value = "";
      show(sent);
      text.focus();
    }).catch(function () {
      var live = document.getElementById("live");
      if (live) { live.textContent = box.dataset.textFailed; }
    });
  });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  text.addEventListener("input", function () {
    var now = Date.now();
    if (now - lastTyping < TYPING_EVERY_MS) { return; }
    lastTyping = now;
    post(box.dataset.typing, new FormData());
  });
})();
