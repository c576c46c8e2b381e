// The embeddable chat widget: one <script> tag on any page gives members a
// floating chat button. No libraries, no build step, no CDN.
//
//   <script src="https://assistent.example.no/widget.js" defer
//           data-name="Veiviser" data-color="#1d4f91"></script>
//
// Texts come from the server (widget/config.json, one Bokmål file), so a
// translation is a file and not a code change.
//
// The widget lives in a shadow root so the host page's styles cannot reach
// it and its styles cannot leak out. The member's own text is always shown
// as text; the assistant's HTML comes sanitised from the server and is
// filtered once more here against a short allow-list.
"use strict";

(function () {
  if (window.customElements && window.customElements.get("veiviser-chat")) return;

  var script = document.currentScript;
  var scriptUrl = script ? script.src : location.href;
  var config = {
    api: (script && script.dataset.api) || new URL("api/v1/", scriptUrl).href,
    config: (script && script.dataset.config) || new URL("widget/config.json", scriptUrl).href,
    name: (script && script.dataset.name) || "",
    color: (script && script.dataset.color) || "#1d4f91",
    position: (script && script.dataset.position) === "left" ? "left" : "right",
    retentionDays: "90",
    maxChars: 2000,
    open: script && script.dataset.open === "true",
  };
  var storageKey = "veiviser:" + config.api;
  var HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;
  // A member token this close to expiry is replaced before it is sent.
  var TOKEN_MARGIN_MS = 30000;
  var TOKEN_PROVIDER_MS = 5000;

  var STYLE = [
    ":host { all: initial; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;",
    "  --vv-accent: #1d4f91; --vv-text: #1a1a1a; --vv-muted: #4a4a4a; --vv-bg: #ffffff;",
    "  --vv-member: #e8eef7; --vv-border: #6b6b6b; font-size: 16px; line-height: 1.45; }",
    "*, *::before, *::after { box-sizing: border-box; }",
    ".launcher { position: fixed; bottom: 1rem; z-index: 2147483000; min-width: 3.5rem; min-height: 3.5rem;",
    "  border-radius: 1.75rem; border: 2px solid #ffffff; background: var(--vv-accent); color: #ffffff;",
    "  font: inherit; font-weight: 600; padding: 0.5rem 1.1rem; cursor: pointer;",
    "  box-shadow: 0 2px 8px rgba(0,0,0,0.35); }",
    ".launcher.right { right: 1rem; } .launcher.left { left: 1rem; }",
    ".panel { position: fixed; bottom: 5rem; z-index: 2147483001; width: 24rem; max-width: calc(100vw - 2rem);",
    "  height: 36rem; max-height: calc(100vh - 6rem); display: flex; flex-direction: column;",
    "  background: var(--vv-bg); color: var(--vv-text); border: 1px solid var(--vv-border);",
    "  border-radius: 0.75rem; box-shadow: 0 4px 24px rgba(0,0,0,0.3); overflow: hidden; }",
    ".panel.right { right: 1rem; } .panel.left { left: 1rem; }",
    ".panel[hidden] { display: none; }",
    "header { background: var(--vv-accent); color: #ffffff; padding: 0.6rem 0.75rem;",
    "  display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem; }",
    "header h2 { font-size: 1.05rem; margin: 0; flex: 1 1 auto; min-width: 4rem; }",
    "header button { font: inherit; font-size: 0.9rem; color: #ffffff; background: transparent;",
    "  border: 1px solid #ffffff; border-radius: 0.4rem; padding: 0.3rem 0.55rem; cursor: pointer; }",
    ".notice { background: #fff4cc; color: #3d3000; padding: 0.5rem 0.75rem; border-bottom: 1px solid #c9a400; }",
    ".notice[hidden] { display: none; }",
    ".login-notice { background: #e8eef7; color: #0b2a55; padding: 0.4rem 0.75rem; font-size: 0.9rem;",
    "  border-bottom: 1px solid var(--vv-border); }",
    ".login-notice.failed { background: #fde8e8; color: #5c0b0b; }",
    ".login-notice[hidden] { display: none; }",
    ".log { list-style: none; margin: 0; padding: 0.75rem; overflow-y: auto; flex: 1 1 auto; }",
    ".message { margin: 0 0 0.75rem; max-width: 92%; overflow-wrap: anywhere; }",
    ".message.member { margin-left: auto; background: var(--vv-member); border-radius: 0.75rem 0.75rem 0.2rem 0.75rem;",
    "  padding: 0.5rem 0.75rem; white-space: pre-wrap; }",
    ".message.assistant .body { background: #f3f3f3; border-radius: 0.75rem 0.75rem 0.75rem 0.2rem;",
    "  padding: 0.5rem 0.75rem; }",
    ".message .body p { margin: 0 0 0.5rem; } .message .body p:last-child { margin-bottom: 0; }",
    ".message .body ul, .message .body ol { margin: 0.25rem 0 0.5rem; padding-left: 1.25rem; }",
    ".message a { color: #0b3d91; text-decoration: underline; }",
    ".who { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }",
    ".status { font-size: 0.85rem; color: var(--vv-muted); margin-top: 0.25rem; }",
    ".status button, .actions button, .feedback button, .privacy button {",
    "  font: inherit; font-size: 0.9rem; border: 1px solid var(--vv-accent); color: var(--vv-accent);",
    "  background: #ffffff; border-radius: 1rem; padding: 0.3rem 0.75rem; margin: 0.3rem 0.3rem 0 0; cursor: pointer; }",
    ".feedback { font-size: 0.85rem; color: var(--vv-muted); margin-top: 0.3rem; }",
    ".feedback button { padding: 0.15rem 0.6rem; }",
    ".feedback textarea { display: block; width: 100%; margin-top: 0.3rem; font: inherit; }",
    ".typing { color: var(--vv-muted); font-style: italic; }",
    ".typing span { display: inline-block; animation: vv-blink 1.2s infinite; }",
    "@keyframes vv-blink { 0%, 100% { opacity: 0.35; } 50% { opacity: 1; } }",
    "form { display: flex; gap: 0.5rem; padding: 0.6rem; border-top: 1px solid var(--vv-border); }",
    "textarea.input { flex: 1 1 auto; resize: none; font: inherit; padding: 0.45rem; min-height: 2.6rem;",
    "  border: 1px solid var(--vv-border); border-radius: 0.4rem; color: var(--vv-text); }",
    "form button { font: inherit; font-weight: 600; background: var(--vv-accent); color: #ffffff;",
    "  border: 0; border-radius: 0.4rem; padding: 0 1rem; cursor: pointer; }",
    ".privacy { padding: 0.75rem; overflow-y: auto; flex: 1 1 auto; }",
    ".privacy[hidden] { display: none; }",
    ".privacy h3 { margin-top: 0; font-size: 1rem; }",
    ".privacy-id { font-size: 0.85rem; overflow-wrap: anywhere; user-select: all; }",
    ".error { color: #8a1010; }",
    ".message.advisor .body { background: #e6f4ea; border-radius: 0.75rem 0.75rem 0.75rem 0.2rem;",
    "  padding: 0.5rem 0.75rem; white-space: pre-wrap; }",
    ".message.advisor .from { display: block; font-size: 0.8rem; color: var(--vv-muted); }",
    ".event { font-size: 0.9rem; color: var(--vv-muted); text-align: center; margin: 0 0 0.75rem; }",
    ".handover { margin-top: 0.5rem; }",
    ".handover button { font: inherit; font-size: 0.9rem; border: 1px solid var(--vv-accent); color: #ffffff;",
    "  background: var(--vv-accent); border-radius: 1rem; padding: 0.3rem 0.75rem; margin: 0.3rem 0.3rem 0 0; cursor: pointer; }",
    ".handover ul { margin: 0.25rem 0 0.5rem; padding-left: 1.25rem; }",
    ".handover label { display: block; margin-top: 0.5rem; }",
    ".handover input[type=text], .handover input[type=email], .handover textarea { display: block; width: 100%;",
    "  font: inherit; padding: 0.35rem; border: 1px solid var(--vv-border); border-radius: 0.3rem; }",
    ".handover .consent { display: flex; gap: 0.4rem; align-items: flex-start; }",
    ".handover-status { background: #e6f4ea; color: #0d3b1e; padding: 0.45rem 0.75rem; font-size: 0.9rem;",
    "  border-top: 1px solid var(--vv-border); display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; }",
    ".handover-status[hidden] { display: none; }",
    ".handover-status button { font: inherit; font-size: 0.85rem; background: #ffffff; color: #0d3b1e;",
    "  border: 1px solid #0d3b1e; border-radius: 1rem; padding: 0.2rem 0.6rem; cursor: pointer; }",
    ".sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }",
    ":focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }",
    "@media (max-width: 30rem) { .panel { inset: 0; width: auto; height: auto; max-width: none;",
    "  max-height: none; border-radius: 0; bottom: 0; } .panel.left, .panel.right { left: 0; right: 0; } }",
    "@media (prefers-reduced-motion: reduce) { * { animation: none !important; transition: none !important;",
    "  scroll-behavior: auto !important; } }",
  ].join("\n");

  // Elements and attributes the assistant's answers may use; everything else
  // is dropped even though the server already sanitised the HTML.
  var ALLOWED_TAGS = {
    A: 1, P: 1, BR: 1, STRONG: 1, EM: 1, B: 1, I: 1, UL: 1, OL: 1, LI: 1,
    CODE: 1, H3: 1, H4: 1, BLOCKQUOTE: 1, SPAN: 1,
  };
  var SAFE_LINK = /^(https?:|mailto:|tel:)/i;

  function sanitise(html) {
    var documentCopy = new DOMParser().parseFromString("<body>" + html, "text/html");
    var fragment = document.createDocumentFragment();
    Array.prototype.forEach.call(documentCopy.body.childNodes, function (node) {
      var clean = cleanNode(node);
      if (clean) fragment.appendChild(clean);
    });
    return fragment;
  }

  function cleanNode(node) {
    if (node.nodeType === 3) return document.createTextNode(node.nodeValue);
    if (node.nodeType !== 1) return null;
    if (!ALLOWED_TAGS[node.tagName]) {
      // Keep the text of unknown harmless elements, drop dangerous ones whole.
      if (/^(SCRIPT|STYLE|IFRAME|OBJECT|EMBED|TEMPLATE|SVG|MATH)$/.test(node.tagName)) return null;
      return document.createTextNode(node.textContent || "");
    }
    var element = document.createElement(node.tagName.toLowerCase());
    if (node.tagName === "A") {
      var href = node.getAttribute("href") || "";
      if (SAFE_LINK.test(href.trim())) {
        element.setAttribute("href", href.trim());
        if (/^https?:/i.test(href.trim())) {
          element.setAttribute("target", "_blank");
          element.setAttribute("rel", "noopener noreferrer");
        }
      }
    }
    Array.prototype.forEach.call(node.childNodes, function (child) {
      var clean = cleanNode(child);
      if (clean) element.appendChild(clean);
    });
    return element;
  }

  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : whole;
    });
  }

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function loadState() {
    try {
      var raw = window.localStorage.getItem(storageKey);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return null;
    }
  }

  function saveState(state) {
    try {
      if (state) window.localStorage.setItem(storageKey, JSON.stringify(state));
      else window.localStorage.removeItem(storageKey);
    } catch (error) {
      // Private browsing may refuse storage; the chat still works without it.
    }
  }

  // A random id for this browser, so statistics can tell new visitors from
  // returning ones. It is not tied to the member: the server keeps only a
  // keyed hash of it.
  function visitorId() {
    var key = "veiviser-visitor";
    try {
      var id = window.localStorage.getItem(key);
      if (!id) {
        id = newClientId();
        window.localStorage.setItem(key, id);
      }
      return id;
    } catch (error) {
      return null;
    }
  }

  // The member portal's login token is read only to know when to ask the
  // host page for a fresh one; the server alone decides whether it is valid.
  function expiresSoon(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var claims = JSON.parse(window.atob(part + "===".slice((part.length + 3) % 4)));
      return typeof claims.exp === "number" && claims.exp * 1000 - Date.now() < TOKEN_MARGIN_MS;
    } catch (error) {
      return false;
    }
  }

  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      var timer = window.setTimeout(function () { reject(new Error("timeout")); }, ms);
      promise.then(function (value) {
        window.clearTimeout(timer);
        resolve(value);
      }, function (error) {
        window.clearTimeout(timer);
        reject(error);
      });
    });
  }

  function ApiError(status, body) {
    this.status = status;
    this.code = body && body.error && body.error.code;
    this.message = body && body.error && body.error.message;
    this.details = (body && body.error && body.error.details) || {};
  }

  class VeiviserChat extends HTMLElement {
    constructor() {
      super();
      this.texts = {};
      this.state = loadState();
      this.rendered = {};
      this.busy = false;
      this.root = this.attachShadow({ mode: "open" });
    }

    connectedCallback() {
      if (this.built) return;
      this.built = true;
      var self = this;
      fetch(config.config, { credentials: "omit" })
        .then(function (response) { return response.json(); })
        .catch(function () { return {}; })
        .then(function (server) {
          self.texts = server.texts || {};
          config.name = config.name || server.assistant_name || "Veiviser";
          if (server.retention_days) config.retentionDays = String(server.retention_days);
          if (server.max_chars) config.maxChars = server.max_chars;
          self.build();
          if (config.open) self.open();
        });
    }

    t(key, values) {
      var merged = { name: config.name, days: config.retentionDays, limit: config.maxChars };
      Object.keys(values || {}).forEach(function (k) { merged[k] = values[k]; });
      return format(this.texts[key] || key, merged);
    }

    // A constructable stylesheet is not inline style, so a host page whose
    // Content-Security-Policy says `style-src 'self'` still lets it apply; a
    // <style> element there is blocked and the widget falls apart. Browsers
    // without constructable stylesheets get the <style> element instead.
    adoptStyle() {
      if (typeof CSSStyleSheet === "function" && "adoptedStyleSheets" in this.root) {
        try {
          var sheet = new CSSStyleSheet();
          sheet.replaceSync(STYLE);
          this.root.adoptedStyleSheets = [sheet];
          return;
        } catch (error) {
          // An older engine without a constructable CSSStyleSheet: fall through.
        }
      }
      var style = document.createElement("style");
      style.textContent = STYLE;
      this.root.appendChild(style);
    }

    build() {
      var self = this;
      this.adoptStyle();
      if (HEX_COLOUR.test(config.color)) this.style.setProperty("--vv-accent", config.color);

      this.launcher = this.make("button", "launcher " + config.position, this.t("open"));
      this.launcher.type = "button";
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.setAttribute("aria-controls", "vv-panel");
      this.launcher.addEventListener("click", function () { self.toggle(); });

      this.panel = this.make("section", "panel " + config.position);
      this.panel.id = "vv-panel";
      this.panel.hidden = true;
      this.panel.setAttribute("role", "dialog");
      this.panel.setAttribute("aria-modal", "false");
      this.panel.setAttribute("aria-labelledby", "vv-title");
      this.panel.addEventListener("keydown", function (event) { self.onKey(event); });

      var header = this.make("header");
      var title = this.make("h2", "", this.t("title"));
      title.id = "vv-title";
      var fresh = this.button(this.t("new_conversation"), function () { self.restart(); });
      fresh.className = "new";
      var privacy = this.button(this.t("privacy"), function () { self.showPrivacy(true); });
      privacy.className = "privacy-open";
      var close = this.button("✕", function () { self.close(); });
      close.className = "close";
      close.setAttribute("aria-label", this.t("close"));
      header.append(title, fresh, privacy, close);

      this.notice = this.make("p", "notice");
      this.notice.hidden = true;

      // Whether the member portal's login worked: shown while logged in, and
      // when a login failed (the chat then goes on anonymously).
      this.loginNotice = this.make("p", "login-notice");
      this.loginNotice.setAttribute("role", "status");
      this.loginNotice.hidden = true;

      this.log = this.make("ol", "log");
      this.log.setAttribute("aria-label", this.t("conversation_label"));
      this.log.tabIndex = 0;

      this.privacy = this.make("div", "privacy");
      this.privacy.hidden = true;
      var privacyTitle = this.make("h3", "", this.t("privacy_title"));
      privacyTitle.tabIndex = -1;
      var privacyText = this.make("p", "", this.t("privacy_text"));
      // The id lets the member ask the union to erase the conversation
      // later, from another device; it is shown, never the token.
      this.privacyId = this.make("p", "privacy-id");
      var back = this.button(this.t("privacy_close"), function () { self.showPrivacy(false); });
      var erase = this.button(this.t("delete_conversation"), function () { self.erase(); });
      erase.className = "erase";
      this.privacy.append(privacyTitle, privacyText, this.privacyId, back, erase);

      this.form = this.make("form");
      this.form.setAttribute("novalidate", "");
      var label = this.make("label", "sr-only", this.t("input_label"));
      label.setAttribute("for", "vv-input");
      this.input = this.make("textarea", "input");
      this.input.id = "vv-input";
      this.input.rows = 1;
      this.input.setAttribute("maxlength", String(config.maxChars));
      this.input.setAttribute("placeholder", this.t("input_label"));
      this.input.setAttribute("autocomplete", "off");
      this.input.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          self.submit();
        }
      });
      this.input.addEventListener("input", function () { self.liveTyping(); });
      var send = this.make("button", "send", this.t("send"));
      send.type = "submit";
      this.form.append(label, this.input, send);
      this.form.addEventListener("submit", function (event) {
        event.preventDefault();
        self.submit();
      });

      // One polite live region: each new reply is announced once, and the
      // member's own messages are not read back to them.
      this.live = this.make("div", "sr-only");
      this.live.setAttribute("aria-live", "polite");
      this.live.setAttribute("aria-atomic", "true");

      this.panel.append(header, this.notice, this.loginNotice, this.log, this.privacy, this.form, this.live);
      this.root.append(this.launcher, this.panel);
      window.addEventListener("online", function () { self.retryPending(); });
      // The host page may push a token instead of (or besides) setting
      // memberToken = async () => token, and says when the member logs out.
      this.addEventListener("veiviser:member-token", function (event) {
        self.memberTokenCache = (event.detail && event.detail.token) || null;
      });
      this.addEventListener("veiviser:member-logout", function () { self.forgetMember(); });
    }

    make(tag, className, text) {
      var element = document.createElement(tag);
      if (className) element.className = className;
      if (text !== undefined) element.textContent = text;
      return element;
    }

    button(text, onClick) {
      var element = this.make("button", "", text);
      element.type = "button";
      element.addEventListener("click", onClick);
      return element;
    }

    toggle() {
      if (this.panel.hidden) this.open();
      else this.close();
    }

    open() {
      this.panel.hidden = false;
      this.launcher.setAttribute("aria-expanded", "true");
      this.input.focus();
      if (!this.started) {
        this.started = true;
        this.resume();
      }
    }

    close() {
      this.panel.hidden = true;
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.focus();
    }

    onKey(event) {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close();
        return;
      }
      if (event.key !== "Tab") return;
      // Keep Tab inside the open panel; Escape leaves it.
      var focusable = Array.prototype.filter.call(
        this.panel.querySelectorAll("button, textarea, a[href], [tabindex='0']"),
        function (element) { return !element.disabled && element.offsetParent !== null; }
      );
      if (!focusable.length) return;
      var first = focusable[0];
      var last = focusable[focusable.length - 1];
      var active = this.root.activeElement;
      if (event.shiftKey && active === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && active === last) {
        event.preventDefault();
        first.focus();
      }
    }

    showPrivacy(show) {
      var id = this.state && this.state.id;
      this.privacyId.textContent = id ? this.t("privacy_id", { id: id }) : "";
      this.privacyId.hidden = !id;
      this.privacy.hidden = !show;
      this.log.hidden = show;
      this.form.hidden = show;
      if (show) this.privacy.querySelector("h3").focus();
      else this.input.focus();
    }

    request(method, path, body) {
      var headers = { Accept: "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      if (this.state && this.state.token) headers.Authorization = "Bearer " + this.state.token;
      if (method === "POST" && path === "conversations") {
        var visitor = visitorId();
        if (visitor) headers["X-Visitor-Id"] = visitor;
      }
      var self = this;
      return this.currentMemberToken().then(function (memberToken) {
        if (memberToken) headers["X-Member-Token"] = memberToken;
        return fetch(config.api + path, {
          method: method,
          headers: headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          credentials: "omit",
          cache: "no-store",
        });
      }).then(function (response) {
        if (response.status === 204) return {};
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) throw new ApiError(response.status, data);
          self.showLogin(data.login && data.login.status);
          return data;
        });
      });
    }

    // The token to send: the cached one while it is fresh, else a new one
    // from the host page's provider (element.memberToken = async () => jwt).
    // The token is kept in memory only, never in localStorage.
    currentMemberToken() {
      var self = this;
      var cached = this.memberTokenCache;
      if (cached && !expiresSoon(cached)) return Promise.resolve(cached);
      var provider = this.memberToken;
      if (typeof provider !== "function") {
        if (cached) this.dispatchEvent(new CustomEvent("veiviser:member-token-expired", { bubbles: true }));
        return Promise.resolve(cached || null);
      }
      this.providerFailed = false;
      return withTimeout(Promise.resolve().then(function () { return provider(); }), TOKEN_PROVIDER_MS)
        .then(function (token) {
          self.memberTokenCache = typeof token === "string" && token ? token : null;
          return self.memberTokenCache;
        })
        .catch(function () {
          // The portal could not give a token: ask anonymously, say so.
          self.memberTokenCache = null;
          self.providerFailed = true;
          return null;
        });
    }

    showLogin(status) {
      if (!this.loginNotice || !status) return;
      if (status === "anonymous" && this.providerFailed) status = "failed";
      if (status === "failed") this.memberTokenCache = null;  // ask afresh next time
      this.loginNotice.className = "login-notice " + status;
      this.loginNotice.textContent = status === "member" ? this.t("login_member")
        : status === "failed" ? this.t("login_failed") : "";
      this.loginNotice.hidden = status === "anonymous";
    }

    forgetMember() {
      // A member logging out leaves nothing for the next person at this
      // computer: the token goes, and so does this browser's conversation.
      this.memberTokenCache = null;
      this.memberToken = null;
      this.state = null;
      saveState(null);
      if (this.log) {
        this.log.textContent = "";
        this.rendered = {};
      }
      if (this.loginNotice) this.loginNotice.hidden = true;
    }

    resume() {
      var self = this;
      if (!this.state) return this.startConversation();
      return this.request("GET", "conversations/" + this.state.id + "/messages")
        .then(function (history) {
          history.messages.forEach(function (message) { self.render(message); });
          self.setNotice(history.notice);
          self.retryPending();
          self.checkHandover();
        })
        .catch(function (error) {
          if (error instanceof ApiError && (error.status === 404 || error.status === 403)) {
            // The conversation was deleted or has expired: start afresh.
            self.state = null;
            saveState(null);
            return self.startConversation();
          }
          self.showConnectionError(function () { self.resume(); });
        });
    }

    startConversation() {
      var self = this;
      return this.request("POST", "conversations", undefined).then(function (created) {
        self.state = { id: created.id, token: created.token, pending: null };
        saveState(self.state);
        created.messages.forEach(function (message) { self.render(message); });
        self.setNotice(created.notice);
      }).catch(function () {
        self.showConnectionError(function () { self.startConversation(); });
      });
    }

    setNotice(text) {
      if (!this.notice) return;
      this.notice.textContent = text || "";
      this.notice.hidden = !text;
    }

    restart() {
      this.resetLive();
      this.log.textContent = "";
      this.rendered = {};
      this.state = null;
      saveState(null);
      this.startConversation();
      this.input.focus();
    }

    erase() {
      var self = this;
      if (!this.state) return;
      this.request("DELETE", "conversations/" + this.state.id).then(function () {
        self.resetLive();
        self.log.textContent = "";
        self.rendered = {};
        self.state = null;
        saveState(null);
        self.showPrivacy(false);
        self.announce(self.t("deleted"));
        self.startConversation();
      }).catch(function () {
        self.announce(self.t("offline"));
      });
    }

    submit() {
      var text = this.input.value;
      if (!text.trim()) {
        this.announce(this.t("empty"));
        this.input.focus();
        return;
      }
      if (text.length > config.maxChars) {
        this.announce(this.t("too_long"));
        return;
      }
      this.input.value = "";
      if (this.liveChat) this.sendLive(text);
      else this.send(text);
      this.input.focus();
    }

    send(text) {
      if (!this.state) return;
      if (this.state.pending) return this.retryPending();
      this.state.pending = { clientId: newClientId(), text: text };
      saveState(this.state);
      this.deliver();
    }

    retryPending() {
      if (this.state && this.state.pending && !this.busy) this.deliver();
    }

    deliver() {
      var self = this;
      var pending = this.state.pending;
      var bubble = this.pendingBubble(pending);
      this.busy = true;
      var typing = this.showTyping();
      this.request("POST", "conversations/" + this.state.id + "/messages", {
        text: pending.text,
        client_id: pending.clientId,
      }).then(function (reply) {
        bubble.remove();
        self.render(reply.member);
        self.render(replyAsMessage(reply));
        self.announce(self.t("announce_reply", { text: textOf(reply.html) }));
        self.state.pending = null;
        saveState(self.state);
      }).catch(function (error) {
        if (error instanceof ApiError && error.code === "handover_active") {
          // A person has the conversation now: the words go to them.
          bubble.remove();
          self.state.pending = null;
          saveState(self.state);
          self.sendLive(pending.text);
          self.checkHandover();
          return;
        }
        if (error instanceof ApiError && error.status === 422) {
          // The server refused the text itself; retrying cannot help.
          bubble.remove();
          self.state.pending = null;
          saveState(self.state);
          self.announce(error.message || self.t("server_error"));
          self.showStatus(error.message || self.t("server_error"));
          return;
        }
        self.markNotSent(bubble, error);
      }).then(function () {
        typing.remove();
        self.busy = false;
      });
    }

    pendingBubble(pending) {
      var existing = this.log.querySelector("[data-client-id='" + pending.clientId + "']");
      if (existing) existing.remove();
      var item = this.make("li", "message member pending");
      item.dataset.clientId = pending.clientId;
      item.append(this.make("span", "who", this.t("you") + ": "));
      item.append(document.createTextNode(pending.text));
      item.append(this.make("div", "status", this.t("sending")));
      this.log.appendChild(item);
      this.scrollDown();
      return item;
    }

    markNotSent(bubble, error) {
      var self = this;
      var status = bubble.querySelector(".status");
      status.textContent = "";
      var message = error instanceof ApiError && error.message ? error.message : this.t("not_sent");
      status.append(this.make("span", "error", message + " "));
      status.append(this.button(this.t("retry"), function () { self.retryPending(); }));
      this.announce(message);
    }

    showStatus(text) {
      var item = this.make("li", "message status error", text);
      this.log.appendChild(item);
      this.scrollDown();
    }

    showConnectionError(retry) {
      var self = this;
      var item = this.make("li", "message status");
      item.append(this.make("span", "error", this.t("offline") + " "));
      item.append(this.button(this.t("retry"), function () {
        item.remove();
        retry();
      }));
      this.log.appendChild(item);
      this.announce(this.t("offline"));
      this.scrollDown();
    }

    showTyping() {
      var item = this.make("li", "message typing");
      item.setAttribute("aria-hidden", "true");
      item.append(this.make("span", "", this.t("typing")));
      this.log.appendChild(item);
      this.scrollDown();
      return item;
    }

    render(message) {
      if (!message || this.rendered[message.seq]) return;
      this.rendered[message.seq] = true;
      var item;
      if (message.role === "member") {
        item = this.make("li", "message member");
        item.append(this.make("span", "who", this.t("you") + ": "));
        item.append(document.createTextNode(message.text || ""));
      } else {
        item = this.make("li", "message assistant outcome-" + (message.outcome || "answer"));
        item.append(this.make("span", "who", this.t("assistant") + ": "));
        var body = this.make("div", "body");
        body.append(sanitise(message.html || ""));
        item.append(body);
        this.addButtons(item, message.buttons || []);
        if (message.outcome === "answer" || message.outcome === "multi") {
          item.append(this.feedback(message.seq));
        }
      }
      item.dataset.seq = message.seq;
      this.insertInOrder(item, message.seq);
      if (message.outcome === "handover") this.offerPerson(item, message.seq);
      this.scrollDown();
    }

    insertInOrder(item, seq) {
      var after = null;
      Array.prototype.forEach.call(this.log.querySelectorAll("li[data-seq]"), function (other) {
        if (Number(other.dataset.seq) > seq && after === null) after = other;
      });
      if (after) this.log.insertBefore(item, after);
      else this.log.appendChild(item);
    }

    addButtons(item, buttons) {
      var self = this;
      if (!buttons.length) return;
      var row = this.make("div", "actions");
      buttons.forEach(function (button) {
        row.append(self.button(button.label, function () {
          self.send(button.payload);
          self.input.focus();
        }));
      });
      item.append(row);
    }

    feedback(seq) {
      var self = this;
      var box = this.make("div", "feedback");
      box.append(this.make("span", "", this.t("helpful") + " "));
      var up = this.button(this.t("yes"), function () { self.rate(box, seq, "up"); });
      up.setAttribute("aria-label", this.t("helpful_yes"));
      var down = this.button(this.t("no"), function () { self.askWhatMissing(box, seq); });
      down.setAttribute("aria-label", this.t("helpful_no"));
      box.append(up, down);
      return box;
    }

    askWhatMissing(box, seq) {
      var self = this;
      box.textContent = "";
      var label = this.make("label", "", this.t("what_missing"));
      var comment = this.make("textarea");
      comment.rows = 2;
      comment.setAttribute("maxlength", "1000");
      var id = "vv-missing-" + seq;
      comment.id = id;
      label.setAttribute("for", id);
      box.append(label, comment, this.button(this.t("send_feedback"), function () {
        self.rate(box, seq, "down", comment.value);
      }));
      comment.focus();
    }

    rate(box, seq, rating, comment) {
      var self = this;
      var body = { rating: rating };
      if (comment && comment.trim()) body.comment = comment.trim();
      this.request("POST", "conversations/" + this.state.id + "/messages/" + seq + "/feedback", body)
        .then(function () {
          box.textContent = self.t("thanks");
          self.announce(self.t("thanks"));
          if (rating === "down") {
            // After a thumbs down a wish for help goes straight to a person.
            box.append(" ", self.make("span", "", self.t("after_dislike") + " "));
            box.append(self.button(self.t("person_button"), function () {
              self.send(self.t("person_button"));
            }));
          }
          self.input.focus();
        })
        .catch(function () { self.announce(self.t("offline")); });
    }

    // --- Handover to a person ------------------------------------------------
    // The live chat is read as server-sent events through fetch, so the token
    // stays in a header. Every event has a number; a reconnect asks for the
    // events after the last one shown, so nothing is missed or shown twice.

    handoverPath(suffix) {
      return "conversations/" + this.state.id + "/handover" + (suffix || "");
    }

    checkHandover() {
      var self = this;
      if (!this.state) return;
      this.request("GET", this.handoverPath()).then(function (status) {
        if (status.state === "queued" || status.state === "active") {
          self.enterLive(status);
        } else if (status.last_seq > (self.lastEvent || 0)) {
          // A chat with a person that has ended: show what was said.
          self.request("GET", self.handoverPath("/events?after=" + (self.lastEvent || 0)))
            .then(function (found) { found.events.forEach(function (e) { self.renderEvent(e); }); });
        }
      }).catch(function () {});
    }

    offerPerson(item, seq) {
      var self = this;
      if ((this.offeredFor || 0) >= seq) return;
      this.offeredFor = seq;
      this.request("GET", this.handoverPath()).then(function (status) {
        if (status.state === "queued" || status.state === "active") return self.enterLive(status);
        // Only the newest reply offers a person; older offers stay as text.
        if (seq < self.lastSeq()) return;
        var box = self.make("div", "handover");
        if (status.availability.live) self.connectChoice(box, status);
        else self.unavailableChoice(box, status);
        item.append(box);
        self.scrollDown();
      }).catch(function () {});
    }

    lastSeq() {
      var seqs = Object.keys(this.rendered).map(Number);
      return seqs.length ? Math.max.apply(null, seqs) : 0;
    }

    connectChoice(box, status) {
      var self = this;
      var share = null;
      if (status.identity_available) {
        var row = this.make("label", "consent");
        share = this.make("input");
        share.type = "checkbox";
        row.append(share, this.make("span", "", this.t("handover_share_identity")));
        box.append(row);
      }
      box.append(this.button(this.t("handover_connect"), function () {
        self.request("POST", self.handoverPath(), { share_identity: !!(share && share.checked) })
          .then(function (next) {
            box.textContent = "";
            if (next.state === "queued" || next.state === "active") self.enterLive(next);
            else self.unavailableChoice(box, next);
          })
          .catch(function () { self.announce(self.t("offline")); });
      }));
    }

    unavailableChoice(box, status) {
      var self = this;
      box.append(this.make("p", "", this.t("handover_hours_title")));
      var list = this.make("ul");
      status.availability.days.forEach(function (day) {
        var when = new Date(day.day + "T12:00:00").toLocaleDateString("nb-NO", {
          weekday: "long", day: "numeric", month: "numeric",
        });
        var hours = day.hours || self.t("handover_closed_day");
        if (day.holiday) hours += " (" + day.holiday + ")";
        list.append(self.make("li", "", when + ": " + hours));
      });
      box.append(list);
      var open = this.button(this.t("handover_leave_message"), function () {
        open.remove();
        self.contactForm(box, status.consent_text);
      });
      box.append(open);
    }

    contactForm(box, consentText) {
      var self = this;
      var form = this.make("form");
      form.setAttribute("novalidate", "");
      var heading = this.make("p", "", this.t("form_title"));
      heading.tabIndex = -1;
      var fields = {};
      [["name", "text", "form_name"], ["contact", "text", "form_contact"], ["message", "textarea", "form_message"]]
        .forEach(function (spec) {
          var id = "vv-form-" + spec[0];
          var label = self.make("label", "", self.t(spec[2]));
          label.setAttribute("for", id);
          var input = self.make(spec[1] === "textarea" ? "textarea" : "input");
          if (spec[1] !== "textarea") input.type = spec[1];
          else input.rows = 3;
          input.id = id;
          input.name = spec[0];
          if (spec[0] === "contact") input.setAttribute("autocomplete", "email tel");
          fields[spec[0]] = input;
          form.append(label, input);
        });
      var consent = this.make("input");
      consent.type = "checkbox";
      consent.id = "vv-form-consent";
      var consentLabel = this.make("label", "consent");
      consentLabel.setAttribute("for", consent.id);
      consentLabel.append(consent, this.make("span", "", consentText));
      fields.consent = consent;
      var problem = this.make("p", "error");
      problem.setAttribute("role", "alert");
      var submit = this.make("button", "", this.t("form_send"));
      submit.type = "submit";
      form.append(consentLabel, problem, submit);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        self.sendTicket(box, form, fields, problem);
      });
      box.append(heading, form);
      heading.focus();
    }

    sendTicket(box, form, fields, problem) {
      var self = this;
      var missing = !fields.contact.value.trim() ? ["contact", "form_missing_contact"]
        : !fields.message.value.trim() ? ["message", "form_missing_message"]
        : !fields.consent.checked ? ["consent", "form_missing_consent"] : null;
      if (missing) {
        problem.textContent = this.t(missing[1]);
        fields[missing[0]].focus();
        return;
      }
      this.request("POST", this.handoverPath("/ticket"), {
        name: fields.name.value, contact: fields.contact.value,
        message: fields.message.value, consent: true,
      }).then(function () {
        box.textContent = "";
        var done = self.make("p", "", self.t("form_sent"));
        box.append(done);
        self.announce(self.t("form_sent"));
      }).catch(function (error) {
        problem.textContent = (error && error.message) || self.t("server_error");
        var field = error && error.details && fields[error.details.field];
        if (field) field.focus();
      });
    }

    enterLive(status) {
      this.liveChat = true;
      if (!this.liveBar) {
        this.liveBar = this.make("div", "handover-status");
        this.liveBar.setAttribute("role", "status");
        this.panel.insertBefore(this.liveBar, this.form);
      }
      this.liveStatus(status);
      this.streamLoop();
    }

    resetLive() {
      this.liveChat = false;
      this.renderedEvents = {};
      this.lastEvent = 0;
      this.offeredFor = 0;
      if (this.liveBar) this.liveBar.hidden = true;
    }

    streamLoop() {
      var self = this;
      if (this.streaming) return;
      this.streaming = true;
      var failures = 0;
      function next(delay) {
        window.setTimeout(function () {
          if (!self.liveChat || !self.state) {
            self.streaming = false;
            return;
          }
          self.streamOnce().then(function () {
            failures = 0;
            next(100);
          }).catch(function () {
            failures += 1;
            next(Math.min(1000 * failures, 10000));
          });
        }, delay);
      }
      next(0);
    }

    streamOnce() {
      var self = this;
      var url = config.api + this.handoverPath("/stream?after=" + (this.lastEvent || 0));
      return fetch(url, {
        headers: { Accept: "text/event-stream", Authorization: "Bearer " + this.state.token },
        credentials: "omit",
        cache: "no-store",
      }).then(function (response) {
        if (!response.ok || !response.body) throw new ApiError(response.status, {});
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            buffer += decoder.decode(chunk.value, { stream: true });
            var blocks = buffer.split("\n\n");
            buffer = blocks.pop();
            blocks.forEach(function (block) { self.onStreamBlock(block); });
            return pump();
          });
        }
        return pump();
      });
    }

    onStreamBlock(block) {
      var kind = "message";
      var data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event: ") === 0) kind = line.slice(7);
        else if (line.indexOf("data: ") === 0) data += line.slice(6);
      });
      if (!data) return;
      var payload = JSON.parse(data);
      if (kind === "handover") this.renderEvent(payload);
      else if (kind === "status") this.liveStatus(payload);
    }

    liveStatus(status) {
      var self = this;
      if (!this.liveBar) return;
      var open = status.state === "queued" || status.state === "active";
      this.liveBar.textContent = "";
      this.liveBar.hidden = !open;
      if (!open) {
        this.liveChat = false;
        return;
      }
      var text = status.state === "queued" ? this.t("handover_queue", { position: status.position })
        : status.advisor_typing ? this.t("handover_advisor_typing") : this.t("handover_with_person");
      this.liveBar.append(this.make("span", "", text));
      // A member who chose to show who they are is reminded of it.
      if (status.identity_shared) {
        this.liveBar.append(this.make("span", "identity", this.t("handover_identity_shared")));
      }
      this.liveBar.append(this.button(
        this.t(status.state === "queued" ? "handover_leave_queue" : "handover_leave"),
        function () {
          self.request("DELETE", self.handoverPath()).then(function (next) { self.liveStatus(next); })
            .catch(function () { self.announce(self.t("offline")); });
        }
      ));
    }

    renderEvent(event) {
      this.renderedEvents = this.renderedEvents || {};
      if (this.renderedEvents[event.seq]) return;
      this.renderedEvents[event.seq] = true;
      this.lastEvent = Math.max(this.lastEvent || 0, event.seq);
      var item;
      if (event.kind === "member") {
        item = this.make("li", "message member");
        item.append(this.make("span", "who", this.t("you") + ": "));
        item.append(document.createTextNode(event.text || ""));
      } else if (event.kind === "advisor") {
        item = this.make("li", "message advisor");
        var body = this.make("div", "body");
        body.append(this.make("span", "from", this.t("handover_advisor", { advisor: event.advisor || "" })));
        body.append(document.createTextNode(event.text || ""));
        item.append(body);
        this.announce(this.t("handover_advisor", { advisor: event.advisor || "" }) + ": " + event.text);
      } else {
        var key = event.kind === "ended" && event.text === "member" ? "handover_ended_by_you"
          : "handover_" + event.kind;
        item = this.make("li", "event", this.t(key, { advisor: event.advisor || "" }));
        this.announce(item.textContent);
      }
      item.dataset.event = event.seq;
      this.insertEvent(item, event.after_message);
      this.scrollDown();
    }

    insertEvent(item, afterMessage) {
      var before = null;
      Array.prototype.forEach.call(this.log.querySelectorAll("li[data-seq]"), function (other) {
        if (Number(other.dataset.seq) > afterMessage && before === null) before = other;
      });
      if (before) this.log.insertBefore(item, before);
      else this.log.appendChild(item);
    }

    sendLive(text) {
      var self = this;
      this.request("POST", this.handoverPath("/messages"), { text: text, client_id: newClientId() })
        .then(function (event) { self.renderEvent(event); })
        .catch(function (error) {
          self.showStatus((error && error.message) || self.t("not_sent"));
        });
    }

    liveTyping() {
      var now = Date.now();
      if (!this.liveChat || now - (this.lastTyping || 0) < 3000) return;
      this.lastTyping = now;
      this.request("POST", this.handoverPath("/typing")).catch(function () {});
    }

    announce(text) {
      // Clearing first makes a repeated text count as a new announcement.
      var live = this.live;
      live.textContent = "";
      window.setTimeout(function () { live.textContent = text; }, 50);
    }

    scrollDown() {
      this.log.scrollTop = this.log.scrollHeight;
    }
  }

  function replyAsMessage(reply) {
    return {
      seq: reply.seq,
      role: "assistant",
      html: reply.html,
      outcome: reply.outcome,
      buttons: reply.buttons,
    };
  }

  function textOf(html) {
    var container = document.createElement("div");
    container.append(sanitise(html || ""));
    return (container.textContent || "").replace(/\s+/g, " ").trim();
  }

  window.customElements.define("veiviser-chat", VeiviserChat);
  function mount() {
    if (!document.querySelector("veiviser-chat")) {
      document.body.appendChild(document.createElement("veiviser-chat"));
    }
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
