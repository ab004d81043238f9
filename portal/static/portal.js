// The portal's only script of its own (no inline scripts: the CSP forbids them).
// It tells the portal the browser's time zone, so that times are shown in it (the `tz` cookie).
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone || document.cookie.indexOf("tz=" + encodeURIComponent(zone)) !== -1) {
    return;
  }
  var secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "tz=" + encodeURIComponent(zone) + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
})();
