/* Patrol on the phone: start, follow the position, send it in batches, stop.
 *
 * Positions go into a queue kept in localStorage and are sent every few seconds; while the
 * network is down they stay queued (and survive a reload or a closed tab) and are sent when
 * it returns. The server ignores a position it already has, so sending twice is harmless.
 * A stop made offline is remembered and sent, with the last positions, once online. */
(function () {
  "use strict";
  var panel = document.getElementById("patrol");
  if (!panel) return;
  var KEY = "govgrid-patrol";
  var SEND_EVERY_MS = 5000;
  var MIN_GAP_MS = 3000;
  var els = {
    state: document.getElementById("patrol-state"),
    time: document.getElementById("patrol-time"),
    distance: document.getElementById("patrol-distance"),
    queue: document.getElementById("patrol-queue"),
    start: document.getElementById("patrol-start"),
    stop: document.getElementById("patrol-stop"),
  };
  var watchId = null;
  var sending = false;

  function t(zh, en) {
    return document.documentElement.lang === "en" ? en : zh;
  }
  function load() {
    try { return JSON.parse(window.localStorage.getItem(KEY)) || null; } catch (e) { return null; }
  }
  function save(s) {
    if (s) window.localStorage.setItem(KEY, JSON.stringify(s));
    else window.localStorage.removeItem(KEY);
  }
  function csrf() {
    var f = panel.querySelector("[name=csrfmiddlewaretoken]");
    return f ? f.value : "";
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body || {}),
    }).then(function (r) {
      if (r.status >= 500 || r.status === 0) throw new Error("server");
      return r.json().then(function (data) { return { ok: r.ok, data: data }; });
    });
  }
  function urlFor(name, id) {
    return panel.dataset[name].replace("/0/", "/" + id + "/");
  }

  function render(s, figures) {
    var running = s && !s.stopAt;
    els.start.hidden = !!running;
    els.stop.hidden = !running;
    els.queue.textContent = s ? String(s.queue.length) : "0";
    if (figures) {
      els.distance.textContent = Math.round(figures.distance_m) + " m";
    }
    if (running) {
      var secs = Math.max(0, Math.round((Date.now() - Date.parse(s.startedAt)) / 1000));
      els.time.textContent = Math.floor(secs / 60) + " min " + (secs % 60) + " s";
      els.state.textContent = t("巡查中", "Patrolling") + (navigator.onLine ? "" : t("（离线，位置已暂存）", " (offline, positions kept)"));
    } else if (s && s.stopAt) {
      els.state.textContent = t("已结束，等待联网上传", "Stopped, waiting for the network to upload");
    } else {
      els.state.textContent = t("未在巡查", "Not patrolling");
    }
    panel.dataset.state = running ? "running" : s && s.stopAt ? "stopping" : "idle";
  }

  function onPosition(p) {
    var s = load();
    if (!s || s.stopAt) return;
    var now = new Date(p.timestamp || Date.now());
    var last = s.queue.length ? Date.parse(s.queue[s.queue.length - 1].at) : s.lastAt ? Date.parse(s.lastAt) : 0;
    if (now.getTime() - last < MIN_GAP_MS) return;
    s.queue.push({ at: now.toISOString(), lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy });
    s.lastAt = now.toISOString();
    save(s);
    render(s);
  }

  function watch() {
    if (watchId !== null || !navigator.geolocation) return;
    watchId = navigator.geolocation.watchPosition(onPosition, function () {
      els.state.textContent = t("无法定位，请检查定位权限", "Cannot locate: check the location permission");
    }, { enableHighAccuracy: true, maximumAge: 5000, timeout: 20000 });
  }
  function unwatch() {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
  }

  function flush() {
    var s = load();
    if (!s || sending || !navigator.onLine) return;
    var batch = s.queue.slice(0, 200);
    var request;
    if (s.stopAt && s.queue.length <= 200) {
      request = post(urlFor("stopUrl", s.id), { at: s.stopAt, points: batch });
    } else if (batch.length) {
      request = post(urlFor("pointsUrl", s.id), { points: batch });
    } else {
      return;
    }
    sending = true;
    request.then(function (res) {
      sending = false;
      var now = load();
      if (!now || now.id !== s.id) return;
      // Drop what was sent (the queue may have grown meanwhile).
      now.queue = now.queue.slice(batch.length);
      if (res.ok && now.stopAt && res.data && res.data.ended_at && !now.queue.length) {
        save(null);
        render(null, res.data);
        return;
      }
      save(now);
      render(now, res.ok ? res.data : null);
    }).catch(function () {
      sending = false;
      render(load());
    });
  }

  els.start.addEventListener("click", function () {
    els.start.disabled = true;
    post(panel.dataset.startUrl).then(function (res) {
      els.start.disabled = false;
      if (!res.ok) { els.state.textContent = (res.data && res.data.detail) || t("无法开始巡查", "Cannot start the patrol"); return; }
      var s = { id: res.data.id, startedAt: res.data.started_at, queue: [] };
      save(s);
      render(s, res.data);
      watch();
    }).catch(function () {
      els.start.disabled = false;
      els.state.textContent = t("没有网络，无法开始巡查", "No network: cannot start the patrol");
    });
  });

  els.stop.addEventListener("click", function () {
    var s = load();
    if (!s) return;
    s.stopAt = new Date().toISOString();
    save(s);
    unwatch();
    render(s);
    flush();
  });

  // Resume: a patrol the server knows is running, or one this phone still has queued.
  var state = load();
  if (!state && panel.dataset.running) {
    state = { id: Number(panel.dataset.running), startedAt: panel.dataset.startedAt, queue: [] };
    save(state);
  }
  if (state && !state.stopAt) watch();
  render(state);
  window.addEventListener("online", flush);
  window.addEventListener("offline", function () { render(load()); });
  window.setInterval(function () { render(load()); flush(); }, SEND_EVERY_MS);
})();
