/* Coach web chat: plain JS, no framework, no external requests. API: see bot/web (webchat). */
(function () {
  'use strict';
  var MAX_FILE = 10485760, POLL = 5000, POLL_MAX = 60000, TRIES = 5, KEEP = 300;
  function $(id) { return document.getElementById(id); }
  var log = $('log'), input = $('msg'), menu = $('menu'), attachBtn = $('attach');
  var locform = $('locform'), contform = $('contform'), replybar = $('replybar');
  var NONE = { getItem: function () { return null; }, setItem: function () {}, removeItem: function () {} };
  var LS = NONE, SS = NONE;
  try { LS = window.localStorage; LS.getItem('x'); } catch (e) { LS = NONE; }
  try { SS = window.sessionStorage; SS.getItem('x'); } catch (e) { SS = NONE; }

  function rid() {
    var b = new Uint8Array(16), s = '';
    crypto.getRandomValues(b);
    for (var i = 0; i < 16; i++) s += String.fromCharCode(b[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  /* The conversation's credential comes from the server (POST /api/webchat) and is kept on
     this phone. A trainer's preview arrives as #c=<credential> and stays in this tab only. */
  var CRED = /^[\w-]{43}$/, PK = 'coach:preview', CK = 'coach:c';
  var hash = /^#c=([\w-]{43})$/.exec(location.hash);
  if (hash) {
    try { SS.setItem(PK, hash[1]); } catch (e) { /* private mode: this view only */ }
    history.replaceState(null, '', location.pathname);
  }
  var preview = hash ? hash[1] : SS.getItem(PK);
  if (!CRED.test(preview || '')) preview = null;
  var conv = preview || LS.getItem(CK);
  if (!CRED.test(conv || '')) {  // an id chosen by an older page: the server refuses it, start afresh
    if (conv) { try { LS.removeItem('coach:m:' + conv); LS.removeItem(CK); } catch (e) { /* ignore */ } }
    conv = null;
  }
  function API() { return conv ? '/api/webchat/' + conv : '/api/webchat'; }
  function SK() { return 'coach:m:' + conv; }
  function adopt(c) {
    if (!CRED.test(c || '') || c === conv) return;
    conv = c;
    try { (preview ? SS : LS).setItem(preview ? PK : CK, c); } catch (e) { /* kept for this view */ }
  }
  var store = { last: 0, items: [] };
  try {
    var raw = conv && JSON.parse(LS.getItem(SK()));
    if (raw && Array.isArray(raw.items)) store = { last: +raw.last || 0, items: raw.items };
  } catch (e) { /* unreadable: start fresh */ }
  var seen = {}, files = {}, els = new WeakMap(), replyTo = null;

  function save() {
    var items = store.items.filter(function (it) { return it.t !== 's'; });
    for (var n = KEEP; n >= 25; n = n >> 1) {
      try { LS.setItem(SK(), JSON.stringify({ last: store.last, items: items.slice(-n) })); return; } catch (e) { /* full */ }
    }
  }

  /* The page's words come from the catalogs (bot/web/page_texts.py): the server sends the
     page in the phone's language; a conversation in another language fetches its words
     (tag, direction, texts, font) from /webchat/texts/<tag>, which the browser caches. */
  var html = document.documentElement, PAGE = html.lang, L = null, asked = PAGE, langs = {};
  try { setLang(langs[PAGE] = JSON.parse(html.getAttribute('data-page'))); } catch (e) { asked = null; }
  function tr(k) { return (L && L.texts[k]) || ''; }
  function wanted() {
    for (var i = store.items.length - 1; i >= 0; i--) {
      var it = store.items[i];
      if (it.t === 'b' && it.lang) return it.lang;
    }
    return PAGE;
  }
  function applyLang() {
    var tag = wanted();
    if (tag === asked) return;
    asked = tag;
    if (langs[tag]) return setLang(langs[tag]);
    request('GET', '/webchat/texts/' + encodeURIComponent(tag)).then(function (r) {
      if (r.status !== 200 || !r.data.texts) { if (asked === tag) asked = null; return; }
      langs[tag] = r.data;
      if (asked === tag) setLang(r.data);
    });
  }
  function setLang(d) {
    L = d;
    html.lang = d.lang;
    html.dir = d.dir === 'rtl' ? 'rtl' : 'ltr';
    if (d.maxFile > 0) MAX_FILE = d.maxFile;
    document.querySelectorAll('[data-t],[data-tp],[data-ta]').forEach(function (e) {
      var k = e.getAttribute('data-t');
      if (k) e.textContent = tr(k);
      if ((k = e.getAttribute('data-tp'))) e.placeholder = tr(k);
      if ((k = e.getAttribute('data-ta'))) e.setAttribute('aria-label', tr(k));
    });
    // A font only for a script the phone may lack (Ethiopic, Arabic); none for the others.
    var link = $('fonts');
    if (d.fonts && !link) {
      link = document.head.appendChild(el('link'));
      link.id = 'fonts';
      link.rel = 'stylesheet';
    }
    if (d.fonts && link.getAttribute('href') !== d.fonts) link.href = d.fonts;
    if (!d.fonts && link) link.remove();
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function icon(name, flip) {
    var NS = 'http://www.w3.org/2000/svg', s = document.createElementNS(NS, 'svg'), u = document.createElementNS(NS, 'use');
    s.setAttribute('class', flip ? 'ico flip' : 'ico');
    s.setAttribute('aria-hidden', 'true');
    u.setAttribute('href', '#i-' + name);
    s.appendChild(u);
    return s;
  }
  function word(k) { var s = el('span', null, tr(k)); s.setAttribute('data-t', k); return s; }
  function btn(cls, ico, k, fn) {
    var b = el('button', cls); b.type = 'button';
    if (ico) b.appendChild(icon(ico, 1));
    if (k) b.appendChild(word(k));
    b.addEventListener('click', fn);
    return b;
  }
  function sameOrigin(u) {
    try { var x = new URL(u, location.href); return x.origin === location.origin ? x.href : null; } catch (e) { return null; }
  }

  var atBottom = true;
  log.addEventListener('scroll', function () { atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 60; }, { passive: true });
  function toBottom() { log.scrollTop = log.scrollHeight; atBottom = true; }
  window.addEventListener('resize', function () { if (atBottom) toBottom(); });

  /* ---------- rendering (textContent only: message text is never parsed as HTML) ---------- */
  function renderBot(it) {
    var m = el('div', 'msg bot'), b = el('div', 'bubble'), md = it.media, url = md && sameOrigin(md.url);
    m.dir = /^(rtl|ltr)$/.test(it.dir) ? it.dir : 'auto';
    if (it.lang) m.lang = it.lang;
    if (it.text) b.appendChild(el('p', 'text', it.text));
    if (url) {
      var x = el(md.kind === 'image' ? 'img' : md.kind === 'audio' ? 'audio' : 'a');
      if (md.kind === 'image') {
        x.loading = 'lazy'; x.alt = typeof md.alt === 'string' ? md.alt : '';
        x.addEventListener('load', function () { if (atBottom) toBottom(); });
      } else if (md.kind === 'audio') { x.controls = true; x.preload = 'none'; } else x.textContent = url.split('/').pop();
      x[md.kind === 'image' || md.kind === 'audio' ? 'src' : 'href'] = url;
      var fallback = md.kind === 'image' && md.fallback && sameOrigin(md.fallback);
      if (fallback) {
        /* The WebP where the browser shows it (one file is fetched), else the PNG or JPEG. */
        var p = el('picture'), s = p.appendChild(el('source'));
        s.type = 'image/webp'; s.srcset = url; x.src = fallback; p.appendChild(x); x = p;
      }
      b.appendChild(x);
    }
    m.appendChild(b);
    if (it.buttons && it.buttons.length) {
      var c = el('div', 'choices');
      it.buttons.forEach(function (o) {
        c.appendChild(btn('choice', null, null, function () { send({ button: o.payload }, { text: o.label }); })).textContent = o.label;
      });
      m.appendChild(c);
    }
    // Reply and Forward only under the message a lesson asks to reply to or forward:
    // elsewhere they would double the buttons, and the coach would not understand them.
    if (it.asks === 'reply' || (it.asks === 'forward' && it.text)) {
      var a = m.appendChild(el('div', 'acts'));
      a.appendChild(it.asks === 'reply' ? btn('act', 'reply', 'reply', function () { setReply(it); })
        : btn('act', 'forward', 'forward', function () {
          send(it.id != null ? { forward_of: it.id, text: it.text } : { text: it.text }, { text: it.text, fwd: 1 });
        }));
    }
    return m;
  }
  function renderMe(it) {
    var m = el('div', 'msg me'), b = el('div', 'bubble'), p = el('p', 'text', it.text), f = files[it.key];
    m.hidden = !!it.hidden && it.state !== 'failed';
    p.dir = 'auto';
    if (it.fwd) b.appendChild(el('p', 'tag')).appendChild(word('forwarded'));
    if (it.reply) b.appendChild(el('p', 'quote', it.reply.text)).dir = 'auto';
    if (it.kind) { var k = el('div', 'kind'); k.appendChild(icon(it.kind)); k.appendChild(p); b.appendChild(k); } else b.appendChild(p);
    if (f && it.kind === 'photo' && window.URL && URL.createObjectURL) {
      var img = b.appendChild(el('img')); img.alt = ''; img.src = URL.createObjectURL(f);
    }
    m.appendChild(b);
    m.appendChild(el('div', 'st'));
    return m;
  }
  function setState(it, state, pct) {
    it.state = state;
    paint(it, pct);
    if (state !== 'sending') save();
  }
  function paint(it, pct) {
    var m = els.get(it), slot = m && m.lastChild, state = it.state;
    if (!slot) return;
    if (it.hidden) m.hidden = state !== 'failed';
    slot.textContent = '';
    if (state === 'sending') {
      var s = slot.appendChild(el('span', 'state'));
      s.appendChild(word('sending'));
      if (pct != null) s.appendChild(document.createTextNode(' ' + Math.round(pct * 100) + '%'));
    } else if (state === 'failed') {
      slot.appendChild(btn('state', null, 'notSent', function () { retry(it); }));
    }
    if (atBottom) toBottom();
  }
  function show(it, scroll) {
    var m = it.t === 'b' ? renderBot(it) : it.t === 'me' ? renderMe(it) : el('p', 'msg sys', it.text);
    if (it.t === 's') m.dir = 'auto';
    els.set(it, m);
    scroll = scroll || atBottom;
    log.appendChild(m);
    if (it.t === 'me') paint(it);
    if (scroll) toBottom();
  }
  function add(it, scroll) { store.items.push(it); show(it, scroll); if (it.t !== 's') save(); }
  function notice(text) { add({ t: 's', text: String(text) }, true); }

  function addBot(list, before) {
    if (!Array.isArray(list)) return;
    list = list.filter(function (m) { return m && typeof m === 'object'; });
    // A known id with other content, or a reply numbered below what we had before sending,
    // means the server's numbering started again (a fresh demo database): forget old ids.
    if (list.some(function (m) {
      var o = seen[m.id];
      return o ? o.text !== String(m.text == null ? '' : m.text) : before != null && +m.id <= before;
    })) {
      store.items.forEach(function (it) { if (it.t === 'b') it.id = null; });
      seen = {}; store.last = 0;
    }
    list = list.filter(function (m) { return m.id == null || !seen[m.id]; });
    if (!list.length) return;
    list.sort(function (a, b) { return (+a.id || 0) - (+b.id || 0); });
    list.forEach(function (m) {
      var it = {
        t: 'b', id: m.id == null ? null : m.id, text: m.text == null ? '' : String(m.text),
        buttons: (Array.isArray(m.buttons) ? m.buttons : []).filter(function (o) { return o && o.label != null; })
          .map(function (o) { return { label: String(o.label), payload: String(o.payload == null ? '' : o.payload) }; }),
        media: m.media && typeof m.media.url === 'string' ? { kind: m.media.kind, url: m.media.url, alt: typeof m.media.alt === 'string' ? m.media.alt : '' } : null,
        dir: m.direction, lang: /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(m.lang) ? m.lang : '',
        asks: m.asks === 'reply' || m.asks === 'forward' ? m.asks : null
      };
      if (it.id != null) { seen[it.id] = it; if (+it.id > store.last) store.last = +it.id; }
      store.items.push(it);
      show(it);
    });
    save();
    applyLang();
  }

  /* ---------- network ---------- */
  function request(method, url, body, onprog) {
    return new Promise(function (resolve) {
      var x = new XMLHttpRequest(), form = body instanceof FormData;
      x.open(method, url);
      x.timeout = form ? 600000 : 30000;
      x.setRequestHeader('Accept', 'application/json');
      if (body && !form) { x.setRequestHeader('Content-Type', 'application/json'); body = JSON.stringify(body); }
      if (onprog) x.upload.onprogress = function (e) { if (e.lengthComputable) onprog(e.loaded / e.total); };
      x.onload = function () {
        var d = null;
        try { d = JSON.parse(x.responseText); } catch (e) { /* not JSON */ }
        resolve({ status: x.status, data: d || {} });
      };
      x.onerror = x.ontimeout = x.onabort = function () { resolve({ status: 0, data: {} }); };
      x.send(body || null);
    });
  }
  function offline(on) { $('offline').hidden = !on; }

  function payload(it) {
    var b = it.body || {}, k;
    if (b.json) { var o = { key: it.key }; for (k in b.json) o[k] = b.json[k]; return o; }
    if (!b.form || (b.file && !files[it.key])) return null;
    var fd = new FormData();
    fd.append('kind', b.form.kind);
    fd.append('key', it.key);
    for (k in b.form) if (k !== 'kind') fd.append(k, b.form[k]);
    if (b.file) fd.append('file', files[it.key], files[it.key].name || 'file');
    return fd;
  }

  // One send at a time, in order. Network errors and 5xx are retried with the SAME key.
  var queue = [], busy = false;
  function enqueue(it) { queue.push(it); if (!busy) next(); }
  function next() {
    var it = queue.shift();
    busy = !!it;
    if (it) deliver(it, 0, 1000, store.last).then(next, next);
  }
  function deliver(it, attempt, wait, before) {
    var body = payload(it);
    if (!body) { setState(it, 'failed'); return Promise.resolve(); }
    var prog = it.body.file ? function (p) { setState(it, 'sending', p); } : null;
    var used = conv, url = conv && live ? API() + '?stream=' + SID : API();
    return request('POST', url, body, prog).then(function (r) {
      if (r.status === 404 && used) { if (used === conv) forget(); return; }
      if (r.status === 200) adopt(r.data.conversation);
      if (r.status && r.status < 500) {
        offline(false);
        setState(it, 'sent');
        if (r.status < 300) addBot(r.data.messages, before);
        else notice(r.data.error || tr('error'));
        if (!live) listen();
        return;
      }
      if (!navigator.onLine) offline(true);
      if (attempt + 1 >= TRIES) {
        setState(it, 'failed');
        if (r.data.error) notice(r.data.error);
        return;
      }
      return new Promise(function (ok) { setTimeout(ok, wait); }).then(function () { return deliver(it, attempt + 1, wait * 2, before); });
    });
  }
  /* The server does not know this conversation (an id from an older version, a new secret
     key): forget it and what was kept of it, and start a new one. */
  function forget() {
    try { LS.removeItem(SK()); (preview ? SS : LS).removeItem(preview ? PK : CK); } catch (e) { /* gone anyway */ }
    hangUp();
    conv = preview = null;
    queue.length = 0;
    store = { last: 0, items: [] };
    seen = {};
    log.textContent = '';
    send({ text: '/start' }, { text: '/start', hidden: 1 });
  }
  function retry(it) {
    if (it.body.file && !files[it.key]) {
      // The file did not survive a page reload: let the learner pick it again.
      store.items.splice(store.items.indexOf(it), 1);
      els.get(it).remove();
      save();
      return openPanel(menu);
    }
    setState(it, 'sending');
    enqueue(it);
  }
  function send(json, view) {
    var it = { t: 'me', key: rid(), text: view.text, state: 'sending', body: { json: json } };
    ['fwd', 'reply', 'hidden'].forEach(function (k) { if (view[k]) it[k] = view[k]; });
    add(it, true);
    enqueue(it);
  }
  function sendForm(form, text, file) {
    var it = { t: 'me', key: rid(), kind: form.kind, text: text, state: 'sending', body: { form: form } };
    if (file) { it.body.file = 1; files[it.key] = file; }
    add(it, true);
    enqueue(it);
  }

  /* New messages (nudges, a volunteer's words) come on a stream of server-sent events while
     the page is open: a heartbeat of two bytes a minute when nothing happens. Where streams
     do not get through (refused, cut at once, an old browser) the page polls, and tries the
     stream again later. */
  var SID = rid().slice(0, 16), live = null, fails = 0, retryMs = 3000, streamAgain = 0;
  var timer = 0, polling = false, pollWait = POLL;
  function canStream() {
    return !!(window.fetch && window.AbortController && window.TextDecoder && window.ReadableStream) &&
      (fails < 3 || Date.now() > streamAgain);
  }
  function listen() {
    clearTimeout(timer);
    if (live || !conv || document.visibilityState === 'hidden') return;
    if (!canStream()) return poll(pollWait);
    if (fails >= 3) fails = 2;  // one more try after a while of polling
    var ctl = new AbortController(), used = conv, got = false, buf = '', beat = 60, dog = 0, s = { ctl: ctl };
    live = s;
    function watch() { clearTimeout(dog); dog = setTimeout(function () { ctl.abort(); }, (beat * 2 + 15) * 1000); }
    function over(wait) {
      clearTimeout(dog);
      if (live !== s) return;
      live = null;
      // Twice without a byte: poll for five minutes, then try a stream again.
      if (!got && ++fails >= 2) { fails = 3; streamAgain = Date.now() + 300000; }
      timer = setTimeout(listen, got ? wait : fails >= 3 ? 0 : retryMs);
    }
    function block(text) {
      var data = '';
      text.split('\n').forEach(function (line) {
        if (line.indexOf('data:') === 0) data += line.slice(5).replace(/^ /, '');
        else if (line.indexOf('retry:') === 0 && +line.slice(6) > 0) retryMs = +line.slice(6);
        else if (/^: ?[0-9.]+$/.test(line)) { beat = +line.replace(/^: ?/, '') || beat; watch(); }
      });
      if (!data) return;
      try { addBot(JSON.parse(data).messages); } catch (e) { /* not ours: skip it */ }
    }
    watch();
    fetch(API() + '/stream?key=' + SID + '&after=' + store.last, {
      headers: { Accept: 'text/event-stream' }, cache: 'no-store', signal: ctl.signal
    }).then(function (r) {
      if (r.status === 404) { if (used === conv) forget(); return over(retryMs); }
      if (r.status !== 200 || !r.body) { fails = 3; streamAgain = Date.now() + 300000; return over(0); }
      var reader = r.body.getReader(), dec = new TextDecoder();
      function pump() {
        return reader.read().then(function (c) {
          if (c.done) return over(retryMs * (1 + Math.random()));
          if (!got) { got = true; fails = 0; pollWait = POLL; offline(false); }
          watch();
          buf += dec.decode(c.value, { stream: true });
          for (var cut = buf.indexOf('\n\n'); cut >= 0; cut = buf.indexOf('\n\n')) {
            block(buf.slice(0, cut));
            buf = buf.slice(cut + 2);
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      if (!navigator.onLine) offline(true);
      over(retryMs);
    });
  }
  function hangUp() { if (live) { var s = live; live = null; s.ctl.abort(); } }

  function poll(ms) { clearTimeout(timer); timer = setTimeout(pollNow, ms); }
  function pollNow() {
    if (document.visibilityState === 'hidden' || polling || live) return;
    if (conv && canStream()) return listen();
    polling = true;
    if (!conv) { polling = false; return poll(POLL); }
    var used = conv;
    request('GET', API() + '?after=' + store.last).then(function (r) {
      polling = false;
      if (r.status === 404) { if (used === conv) forget(); return poll(POLL); }
      if (r.status === 200) { offline(false); pollWait = POLL; addBot(r.data.messages); } else {
        if (!navigator.onLine) offline(true);
        pollWait = Math.min(pollWait * 2, POLL_MAX);
      }
      if (document.visibilityState !== 'hidden') poll(pollWait);
    });
  }
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState !== 'hidden' && !live) poll(0);
  });
  window.addEventListener('offline', function () { offline(true); });
  window.addEventListener('online', function () {
    offline(false);
    pollWait = POLL;
    fails = 0;
    if (!live) poll(0);
    store.items.forEach(function (it) {
      if (it.state === 'failed' && (!it.body.file || files[it.key])) retry(it);
    });
  });
  /* The service worker keeps the page's shell for a learner who comes back (installed on
     the second visit: one visit alone does not pay for it). */
  function keepShell() {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.register('/sw.js').catch(function () { /* the page works without it */ });
  }

  /* ---------- composer, reply, attachments ---------- */
  function setReply(it) {
    var s = it.text.replace(/\s+/g, ' ').trim();
    replyTo = { id: it.id, text: s.length > 90 ? s.slice(0, 90) + '…' : s || '…' };
    $('replyq').textContent = replyTo.text;
    replybar.hidden = false;
    input.focus();
  }
  function clearReply() { replyTo = null; replybar.hidden = true; }
  $('replyx').addEventListener('click', function () { clearReply(); input.focus(); });
  $('composer').addEventListener('submit', function (e) {
    e.preventDefault();
    var text = input.value.trim(), json = { text: text }, view = { text: text };
    if (text) {
      if (replyTo) { if (replyTo.id != null) json.reply_to = replyTo.id; view.reply = replyTo; }
      input.value = '';
      clearReply();
      send(json, view);
    }
    input.focus();
  });

  var panels = [menu, locform, contform];
  function closePanels() {
    panels.forEach(function (p) { p.hidden = true; });
    attachBtn.setAttribute('aria-expanded', 'false');
  }
  function openPanel(p) {
    closePanels();
    p.hidden = false;
    if (p === menu) attachBtn.setAttribute('aria-expanded', 'true');
    p.querySelector('button,input').focus();
    if (atBottom) toBottom();
  }
  function close() { closePanels(); attachBtn.focus(); }
  attachBtn.addEventListener('click', function () { if (menu.hidden) openPanel(menu); else close(); });
  document.querySelectorAll('[data-close]').forEach(function (b) { b.addEventListener('click', close); });
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape') return;
    if (panels.some(function (p) { return !p.hidden; })) close(); else clearReply();
  });
  ['photo', 'voice', 'document', 'location', 'contact', 'cancel'].forEach(function (kind) {
    var b = menu.appendChild(btn(kind === 'cancel' ? 'ib plain' : 'ib', null, null, function () {
      if (kind === 'location') return openPanel(locform);
      if (kind === 'contact') return openPanel(contform);
      if (kind === 'cancel') return close();
      closePanels();
      $('f-' + kind).click();
    }));
    b.appendChild(icon(kind === 'cancel' ? 'close' : kind));
    b.appendChild(word(kind));
  });
  ['photo', 'voice', 'document'].forEach(function (kind) {
    var inp = $('f-' + kind);
    inp.addEventListener('change', function () {
      var f = inp.files && inp.files[0];
      inp.value = '';
      if (!f) return;
      if (f.size > MAX_FILE) return notice(tr('tooBig'));
      sendForm({ kind: kind }, (f.name || tr(kind)) + ' (' + Math.max(f.size / 1048576, 0.1).toFixed(1) + ' ' + tr('mb') + ')', f);
    });
  });

  function field(form, name) { return form.elements.namedItem(name); }
  function sendLocation(lat, lon) {
    closePanels();
    sendForm({ kind: 'location', latitude: String(lat), longitude: String(lon) }, lat + ', ' + lon);
    input.focus();
  }
  function num(f, lim) {
    var v = f.value.trim().replace(',', '.').replace('\u2212', '-'), n = parseFloat(v);
    return /^-?\d{1,3}(\.\d+)?$/.test(v) && Math.abs(n) <= lim ? n : null;
  }
  locform.addEventListener('submit', function (e) {
    e.preventDefault();
    var la = num(field(locform, 'latitude'), 90), lo = num(field(locform, 'longitude'), 180);
    if (la === null || lo === null) {
      notice(tr('badPos'));
      return field(locform, la === null ? 'latitude' : 'longitude').focus();
    }
    locform.reset();
    sendLocation(la, lo);
  });
  // Real position only if the learner wants it; typing one always works.
  $('geo').addEventListener('click', function () {
    function fail() { notice(tr('geoFail')); field(locform, 'latitude').focus(); }
    if (!navigator.geolocation) return fail();
    navigator.geolocation.getCurrentPosition(function (p) {
      sendLocation(+p.coords.latitude.toFixed(5), +p.coords.longitude.toFixed(5));
    }, fail, { timeout: 15000, maximumAge: 300000 });
  });
  contform.addEventListener('submit', function (e) {
    e.preventDefault();
    var nf = field(contform, 'name'), pf = field(contform, 'phone'), name = nf.value.trim(), phone = pf.value.trim();
    if (!name || !phone) return (name ? pf : nf).focus();
    contform.reset();
    closePanels();
    sendForm({ kind: 'contact', name: name, phone: phone }, name + ' — ' + phone);
    input.focus();
  });

  /* ---------- start ---------- */
  store.items = store.items.filter(function (it) { return it && (it.t === 'b' || (it.t === 'me' && it.body)); });
  store.items.forEach(function (it) {
    if (it.t === 'b' && it.id != null) seen[it.id] = it;
    show(it);
  });
  applyLang();
  toBottom();
  // Sends cut short by a reload go out again with the same key (files cannot: tap to pick again).
  store.items.forEach(function (it) {
    if (it.state === 'sending') { if (it.body.file) setState(it, 'failed'); else enqueue(it); }
  });
  if (store.items.length || store.last) {
    listen();
    if (document.readyState === 'complete') keepShell(); else window.addEventListener('load', keepShell);
  } else {
    // First open: show what the coach already sent here (trainer preview), else say /start.
    // The stream opens once the conversation exists.
    if (!conv) { send({ text: '/start' }, { text: '/start', hidden: 1 }); return; }
    request('GET', API() + '?after=0').then(function (r) {
      if (r.status === 404) forget();
      else if (r.status === 200 && r.data.messages && r.data.messages.length) { addBot(r.data.messages); listen(); }
      else send({ text: '/start' }, { text: '/start', hidden: 1 });
    });
  }
})();
