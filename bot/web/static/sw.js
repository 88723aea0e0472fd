/* Coach's service worker: keeps the page's shell (the page, its script and its style) so a
   returning learner downloads only new messages. A new version of any of them changes this
   script, which installs a fresh copy of the shell and drops the old one. */
'use strict';
var SHELL = ['/', {{shell}}], CACHE = 'coach-shell {{version}} ' + SHELL.join(' ');
self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE && k.indexOf('coach-shell ') === 0; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});
self.addEventListener('fetch', function (e) {
  var r = e.request, u = new URL(r.url);
  if (r.method !== 'GET' || u.origin !== location.origin) return;
  var key = r.mode === 'navigate' && u.pathname === '/' ? '/' : u.pathname + u.search;
  if (SHELL.indexOf(key) < 0) return;  // the API, the desk, fonts, pictures: the network as usual
  e.respondWith(caches.open(CACHE).then(function (c) {
    return c.match(key).then(function (hit) {
      return hit || fetch(r).then(function (got) {
        if (got.ok && key !== '/') c.put(key, got.clone());
        return got;
      });
    });
  }));
});
