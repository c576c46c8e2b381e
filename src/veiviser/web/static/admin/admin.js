// Partial page updates for the admin pages, without a build chain or CDN.
//
//   <form data-target="#id">          submit with fetch, put the answer in #id
//   <form data-live="/url" data-target="#id">
//                                     on input (debounced), POST the form to
//                                     /url and put the answer in #id; the
//                                     form itself submits as a normal page
//   <form data-live-get data-target="#id">
//                                     on input, GET the form's action with its
//                                     fields as query, put the answer in #id
//   <div data-poll="/url" data-interval="1000">
//                                     replace the element with /url's answer
//                                     until the answer has no data-poll
//   <textarea name="phrases" data-check="/url" data-check-target="#id"
//             data-check-intent="intent_id">
//                                     on input (debounced), POST the field's
//                                     text as "phrases" (and the intent id) to
//                                     /url and put the answer in #id; the
//                                     field's own form is not touched
//
// Every request carries the page's CSRF token (X-CSRF-Token) and
// X-Admin-Fragment: 1, so the server answers with a fragment, not a page.
(function () {
  "use strict";

  var DEBOUNCE_MS = 300;
  var timers = new WeakMap();

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function announce(text) {
    var live = document.getElementById("live");
    if (live && text) {
      live.textContent = "";
      window.setTimeout(function () { live.textContent = text; }, 50);
    }
  }

  function request(method, url, body) {
    var headers = { "X-Admin-Fragment": "1", "X-CSRF-Token": csrfToken() };
    return fetch(url, {
      method: method,
      body: body,
      headers: headers,
      credentials: "same-origin",
      redirect: "follow"
    }).then(function (response) {
      // A session that ran out lands on the login page: go there whole.
      if (response.redirected && response.url.indexOf("/admin/login") !== -1) {
        window.location.assign(response.url);
        return null;
      }
      var target = response.headers.get("X-Admin-Redirect");
      if (target) {
        window.location.assign(target);
        return null;
      }
      return response.text();
    });
  }

  function swap(target, html) {
    if (html === null || !target) { return; }
    if (target.getAttribute("data-swap") === "outer") {
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var fresh = holder.firstElementChild;
      target.replaceWith(fresh || holder);
      target = fresh || holder;
    } else {
      target.innerHTML = html;
    }
    startPolling(target.parentNode || document);
    var focus = target.querySelector("[data-focus]");
    if (focus) { focus.focus(); }
    var message = target.querySelector("[data-announce]");
    if (message) { announce(message.textContent); }
  }

  function failed(target) {
    var text = document.body.getAttribute("data-fetch-failed") ||
      "Kunne ikke nå serveren.";
    announce(text);
    if (target) { target.setAttribute("aria-busy", "false"); }
  }

  function targetOf(element) {
    var selector = element.getAttribute("data-target");
    return selector ? document.querySelector(selector) : null;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-target")) {
      return;
    }
    // A live form's target holds its preview; the form itself is sent as a
    // page, so the answer (a redirect or the form with its errors) is shown
    // whole, not inside the preview.
    if (form.hasAttribute("data-live")) { return; }
    event.preventDefault();
    var target = targetOf(form);
    var method = (form.getAttribute("method") || "get").toUpperCase();
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) {
      data.append(event.submitter.name, event.submitter.value);
    }
    var url = form.getAttribute("action") || window.location.pathname;
    var busy = form.querySelectorAll("button");
    busy.forEach(function (button) { button.disabled = true; });
    var call = method === "GET"
      ? request("GET", url + "?" + new URLSearchParams(data).toString())
      : request(method, url, data);
    call.then(function (html) {
      swap(target, html);
      if (form.hasAttribute("data-reset") && html !== null) { form.reset(); }
    }).catch(function () { failed(target); }).finally(function () {
      busy.forEach(function (button) { button.disabled = false; });
    });
  });

  function liveUpdate(form) {
    var target = targetOf(form);
    var data = new FormData(form);
    var call;
    if (form.hasAttribute("data-live-get")) {
      var query = new URLSearchParams(data).toString();
      var url = (form.getAttribute("action") || window.location.pathname);
      window.history.replaceState(null, "", url + "?" + query);
      call = request("GET", url + "?" + query);
    } else {
      call = request("POST", form.getAttribute("data-live"), data);
    }
    call.then(function (html) { swap(target, html); })
      .catch(function () { failed(target); });
  }

  function checkField(field) {
    var data = new FormData();
    data.append("phrases", field.value);
    var intentField = field.form && field.form.elements.namedItem("intent_id");
    data.append("intent_id", field.getAttribute("data-check-intent") ||
      (intentField && intentField.value) || "");
    var target = document.querySelector(field.getAttribute("data-check-target"));
    request("POST", field.getAttribute("data-check"), data)
      .then(function (html) { swap(target, html); })
      .catch(function () { failed(target); });
  }

  function onCheckInput(event) {
    var field = event.target;
    if (!(field instanceof Element) || !field.hasAttribute("data-check")) { return; }
    window.clearTimeout(timers.get(field));
    timers.set(field, window.setTimeout(function () { checkField(field); }, DEBOUNCE_MS));
  }
  document.addEventListener("input", onCheckInput);

  function onInput(event) {
    var form = event.target.form;
    if (!form || !(form.hasAttribute("data-live") || form.hasAttribute("data-live-get"))) {
      return;
    }
    window.clearTimeout(timers.get(form));
    timers.set(form, window.setTimeout(function () { liveUpdate(form); }, DEBOUNCE_MS));
  }
  document.addEventListener("input", onInput);
  document.addEventListener("change", onInput);

  function poll(element) {
    var url = element.getAttribute("data-poll");
    var interval = parseInt(element.getAttribute("data-interval") || "1000", 10);
    window.setTimeout(function () {
      if (!document.body.contains(element)) { return; }
      request("GET", url).then(function (html) {
        if (html === null) { return; }
        element.setAttribute("data-swap", "outer");
        swap(element, html);
      }).catch(function () {
        // The server may be restarting: keep trying, more slowly.
        element.setAttribute("data-interval", String(Math.min(interval * 2, 10000)));
        poll(element);
      });
    }, interval);
  }

  function startPolling(root) {
    root.querySelectorAll("[data-poll]").forEach(function (element) {
      if (element.getAttribute("data-polling") === "1") { return; }
      element.setAttribute("data-polling", "1");
      poll(element);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startPolling(document);
  });
})();
