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

// Chart axis labels (SVG <text data-time>): the time of day or the date,
// in the viewer's time zone.
for (const el of document.querySelectorAll("text[data-time]")) {
  const d = new Date(el.dataset.time);
  if (Number.isNaN(d.getTime())) continue;
  el.textContent = el.dataset.shows === "time"
    ? d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}
