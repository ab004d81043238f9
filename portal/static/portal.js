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
  // IANA names are letters, digits and _ + - /: all allowed in a cookie as they are (the portal checks
  // the name against the time zone database).
  if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone) || document.cookie.indexOf("tz=" + zone) !== -1) {
    return;
  }
  var secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
})();
