// The demo member portal hands the chat widget its login, as a union's real
// portal would: the widget calls memberToken() whenever it needs a fresh
// signed token. Logging out tells the widget to forget the conversation, so
// the next person at this computer starts afresh.
"use strict";

(function () {
  var main = document.querySelector("main");
  var chat = document.querySelector("veiviser-chat");
  if (!main || !chat) return;
  var member = main.dataset.member;

  if (member) {
    chat.memberToken = function () {
      return fetch("/demo/min-side/token", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ member: member }),
        credentials: "same-origin",
        cache: "no-store",
      }).then(function (response) {
        if (!response.ok) throw new Error("no token");
        return response.json();
      }).then(function (data) { return data.token; });
    };
  }

  var logOut = document.querySelector(".log-out");
  if (logOut) {
    logOut.addEventListener("click", function () {
      chat.dispatchEvent(new CustomEvent("veiviser:member-logout"));
    });
  }
})();
