// The plain chat page: talks to /api/v1, no libraries.
//
// The member's own text is shown with textContent, never as HTML. The
// assistant's html is inserted as given: the server renders and sanitises it
// with an allow-list (see veiviser/dialogue/rendering.py).
"use strict";

(function () {
  var root = document.getElementById("veiviser-chat");
  if (!root) return;
  var api = root.dataset.api;
  var log = root.querySelector(".chat-log");
  var form = root.querySelector(".chat-form");
  var input = root.querySelector("#chat-input");
  var errorBox = root.querySelector(".chat-error");
  var noticeBox = root.querySelector(".chat-notice");
  var conversation = null;
  var busy = false;

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  // The organisation's service notice (Driftsmelding), set by editors at
  // /admin/notice. The API sends it only while its period is running, and it
  // is plain text: textContent keeps any markup in it inert.
  function showNotice(text) {
    if (!noticeBox) return;
    noticeBox.textContent = text || "";
    noticeBox.hidden = !text;
  }

  function request(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (conversation) headers["Authorization"] = "Bearer " + conversation.token;
    return fetch(api + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var message = data && data.error && data.error.message;
          throw new Error(message || root.dataset.connectionError);
        }
        return data;
      });
    }, function () {
      throw new Error(root.dataset.connectionError);
    });
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function addMember(text) {
    var item = document.createElement("li");
    item.className = "message member";
    item.textContent = text;
    log.appendChild(item);
    scrollDown();
  }

  function addAssistant(message) {
    var item = document.createElement("li");
    item.className = "message assistant outcome-" + (message.outcome || "answer");
    var body = document.createElement("div");
    body.className = "message-body";
    body.innerHTML = message.html || "";
    item.appendChild(body);
    if (message.buttons && message.buttons.length) {
      var buttons = document.createElement("div");
      buttons.className = "message-buttons";
      message.buttons.forEach(function (button) {
        var element = document.createElement("button");
        element.type = "button";
        element.textContent = button.label;
        element.addEventListener("click", function () { send(button.payload); });
        buttons.appendChild(element);
      });
      item.appendChild(buttons);
    }
    if (message.outcome === "answer" || message.outcome === "multi") {
      item.appendChild(feedbackFor(message.seq));
    }
    log.appendChild(item);
    scrollDown();
  }

  function feedbackFor(seq) {
    var box = document.createElement("div");
    box.className = "message-feedback";
    var question = document.createElement("span");
    question.textContent = root.dataset.helpful + " ";
    box.appendChild(question);
    [["up", root.dataset.yes], ["down", root.dataset.no]].forEach(function (pair) {
      var element = document.createElement("button");
      element.type = "button";
      element.textContent = pair[1];
      element.addEventListener("click", function () {
        request("POST", "/conversations/" + conversation.id + "/messages/" + seq +
                "/feedback", { rating: pair[0] }).then(function () {
          box.textContent = root.dataset.thanks;
        }, function (error) { showError(error.message); });
      });
      box.appendChild(element);
    });
    return box;
  }

  function start() {
    return request("POST", "/conversations").then(function (data) {
      conversation = { id: data.id, token: data.token };
      showNotice(data.notice);
      data.messages.forEach(addAssistant);
    });
  }

  function send(text) {
    if (busy || !text.trim()) return;
    busy = true;
    showError("");
    addMember(text);
    var ready = conversation ? Promise.resolve() : start();
    ready.then(function () {
      return request("POST", "/conversations/" + conversation.id + "/messages",
                     { text: text });
    }).then(addAssistant, function (error) {
      showError(error.message);
    }).then(function () {
      busy = false;
      input.focus();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  start().catch(function (error) { showError(error.message); });
})();
