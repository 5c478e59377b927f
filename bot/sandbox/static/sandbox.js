// The sandbox page: sends what a person does, listens for changes (server-sent events)
// and swaps in the server-rendered parts that changed. No framework, no polling.
"use strict";
(function () {
  const body = document.body;
  const me = body.dataset.as, channel = body.dataset.channel;
  const thread = body.dataset.thread, tab = body.dataset.tab;

  function send(path, data) {
    return fetch(path, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(Object.assign({as: me, channel: channel}, data)),
    }).then((r) => r.json().catch(() => ({ok: r.ok})));
  }

  function localTimes(root) {
    root.querySelectorAll("time[data-ts]").forEach((el) => {
      const at = new Date(parseFloat(el.dataset.ts) * 1000);
      if (!isNaN(at)) el.textContent = at.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
    });
  }

  function nearBottom(el) {
    return !el || el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  }

  function scrollDown() {
    ["main", "thread"].forEach((id) => {
      const el = document.getElementById(id);
      if (el) el.scrollTop = el.scrollHeight;
    });
  }

  let refreshing = false, again = false;
  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    const query = new URLSearchParams({as: me, c: channel, t: thread, tab: tab});
    const stick = {main: nearBottom(document.getElementById("main")),
                   thread: nearBottom(document.getElementById("thread"))};
    fetch("/sandbox/fragments?" + query).then((r) => r.json()).then((parts) => {
      const targets = {sidebar: "sidebar", main: "main", thread: "thread"};
      Object.keys(targets).forEach((name) => {
        const el = document.getElementById(targets[name]);
        if (el && el.innerHTML !== parts[name]) {
          el.innerHTML = parts[name];
          localTimes(el);
          if (stick[name]) el.scrollTop = el.scrollHeight;
        }
      });
      body.dataset.refreshed = String(Number(body.dataset.refreshed || 0) + 1);
    }).finally(() => {
      refreshing = false;
      if (again) { again = false; refresh(); }
    });
  }

  function listen() {
    const events = new EventSource("/sandbox/stream");
    events.addEventListener("hello", () => { body.dataset.live = "1"; });
    events.addEventListener("change", refresh);
    events.onerror = () => { body.dataset.live = "0"; };
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action-id]");
    if (button) {
      const msg = button.closest("article[data-ts]");
      button.disabled = true;
      send("/sandbox/action", {
        action_id: button.dataset.actionId, value: button.dataset.value,
        block_id: button.dataset.blockId, text: button.dataset.label,
        container: button.dataset.container, ts: msg ? msg.dataset.ts : null,
      }).finally(() => { button.disabled = false; });
      return;
    }
    const react = event.target.closest("button[data-react]");
    if (react) {
      const msg = react.closest("article[data-ts]");
      send("/sandbox/react", {ts: msg.dataset.ts, name: react.dataset.react});
    }
  });

  document.querySelectorAll("form.composer").forEach((form) => {
    const box = form.querySelector("textarea"), error = form.querySelector(".composer-error");
    function submit() {
      const text = box.value.trim();
      if (!text) return;
      error.textContent = "";
      send("/sandbox/post", {text: text, thread_ts: form.dataset.thread || null}).then((r) => {
        if (r.ok) { box.value = ""; } else { error.textContent = r.error || "not sent"; }
      });
    }
    form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); submit(); }
    });
  });

  const picker = document.getElementById("person");
  picker.addEventListener("change", () => {
    const query = new URLSearchParams(location.search);
    query.set("as", picker.value);
    if (query.get("c") && query.get("c").startsWith("D")) query.delete("c");
    location.search = query.toString();
  });

  document.cookie = "slabot_demo_as=" + encodeURIComponent(me) + "; path=/; SameSite=Strict";
  localTimes(document);
  scrollDown();
  listen();
  if (tab === "home") send("/sandbox/home", {});
})();
