// The portal's only script: it shows every <time datetime> in the
// viewer's time zone. Progressive enhancement: the server writes the time
// in UTC, which stays on the page without script and in the tooltip.
"use strict";
for (const el of document.querySelectorAll("time[datetime]")) {
  const d = new Date(el.dateTime);
  if (Number.isNaN(d.getTime())) continue;
  el.title = el.textContent;
  el.textContent = d.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
  });
}
