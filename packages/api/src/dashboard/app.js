// The dashboard's script (served as /dashboard/assets/app.js under a CSP without inline code).
// Every value from the API is put in the page with textContent or as chart data, never as HTML.

const KEY = "icp.apiKey";
const $ = (id) => document.getElementById(id);
const charts = new Map();
const PALETTE = ["#3457d5", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#64748b"];
const TIER_COLORS = { priority: "#16a34a", nurture: "#f59e0b", generic: "#64748b", disqualified: "#dc2626" };

/** An element with text content (never HTML) and an optional class. */
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

const pct = (x) => (x === null || x === undefined || Number.isNaN(x) ? "–" : `${(x * 100).toFixed(1)}%`);
const num = (x) => (x === null || x === undefined ? "–" : Number(x).toLocaleString("en-US"));
const money = (x) =>
  x === null || x === undefined ? "–" : Number(x).toLocaleString("en-US", { maximumFractionDigits: 0 });
const when = (iso) => (iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 16) : "");

class HttpError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** GET a /v1 path with the session's key; JSON back, or an HttpError carrying the problem's detail. */
async function api(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const qs = q.toString();
  const res = await fetch(`${path}${qs ? `?${qs}` : ""}`, {
    headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ""}`, accept: "application/json" },
  });
  if (!res.ok) {
    let detail = `${res.status} ${res.statusText}`;
    try {
      detail = (await res.json()).detail ?? detail;
    } catch {
      // not a problem+json body
    }
    throw new HttpError(res.status, detail);
  }
  return res.json();
}

/** Draw (or redraw) a chart on a canvas; an existing chart is updated in place. */
function chart(id, config) {
  const old = charts.get(id);
  if (old && old.config.type === config.type) {
    old.data.labels = config.data.labels;
    old.data.datasets = config.data.datasets;
    old.options = config.options ?? old.options;
    old.update();
    return old;
  }
  old?.destroy();
  const c = new window.Chart($(id), {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
  });
  charts.set(id, c);
  return c;
}

/** Fill a table: headers and rows of cells (text only). */
function table(id, headers, rows) {
  const t = $(id);
  const head = t.tHead.rows[0] ?? t.tHead.insertRow();
  head.replaceChildren(...headers.map((h) => el("th", h)));
  t.tBodies[0].replaceChildren(
    ...rows.map((r) => {
      const tr = el("tr");
      for (const c of r) tr.append(el("td", c));
      return tr;
    }),
  );
}

/** The filter bar's values, as the report endpoints take them (days are YYYY-MM-DD, UTC). */
function filters() {
  return {
    from: $("f-from").value || undefined,
    to: $("f-to").value || undefined,
    icpId: $("f-icp").value || undefined,
    segment: $("f-segment").value || undefined,
    groupBy: $("f-groupby").value,
  };
}
const reportQuery = (f) => ({ from: f.from, to: f.to, icpId: f.icpId, segment: f.segment });

/** Names for ids in report groups: ICPs and sequences (loaded with the ICP list). */
const names = { icp: new Map(), sequence: new Map() };

/** `seq_…#2` -> "Priority outbound v2"; unknown ids stay as they are. */
function sequenceLabel(value) {
  const [id, version] = String(value).split("#");
  const name = names.sequence.get(id);
  return `${name ?? id}${version ? ` v${version}` : ""}`;
}

/** A report group's value as people read it, per dimension. */
function groupLabel(groupBy, value) {
  const v = String(value);
  if (groupBy === "icp") {
    if (v === "none") return "no ICP";
    const [id, version] = v.split("#");
    const name = names.icp.get(id);
    return name ? `${name} v${version}` : v;
  }
  if (groupBy === "sequence") return sequenceLabel(v);
  if (groupBy === "step" || groupBy === "variant") {
    const [id, version, ...rest] = v.split("#");
    return `${sequenceLabel(`${id}#${version}`)} › ${rest.join(" · ")}`;
  }
  return v;
}

// ---------------------------------------------------------------------------- sections

async function loadIcps() {
  const [{ items }, sequences] = await Promise.all([
    api("/v1/icps"),
    api("/v1/sequences").catch(() => ({ items: [] })),
  ]);
  const icpSel = $("f-icp");
  const segSel = $("f-segment");
  const segments = new Set(["default"]);
  const keepIcp = icpSel.value;
  const keepSeg = segSel.value;
  icpSel.replaceChildren(new Option("All ICPs", ""));
  names.icp.clear();
  for (const icp of items) {
    names.icp.set(icp.id, icp.name);
    icpSel.append(new Option(`${icp.name} (v${icp.version})`, icp.id));
    for (const s of icp.segments ?? []) segments.add(s.name);
  }
  segSel.replaceChildren(new Option("All segments", ""));
  for (const s of [...segments].sort()) segSel.append(new Option(s, s));
  icpSel.value = keepIcp;
  segSel.value = keepSeg;
  names.sequence.clear();
  for (const seq of sequences.items ?? []) names.sequence.set(seq.id, seq.name);
  return items;
}

async function loadTiers(f) {
  const r = await api("/v1/reports/tiers", { icpId: f.icpId, segment: f.segment });
  const labels = Object.keys(r.tiers);
  chart("chart-tiers", {
    type: "doughnut",
    data: {
      labels,
      datasets: [
        {
          label: "accounts",
          data: labels.map((t) => r.tiers[t]),
          backgroundColor: labels.map((t) => TIER_COLORS[t] ?? "#999"),
        },
      ],
    },
    options: { plugins: { legend: { position: "right" } } },
  });
  const list = $("coverage");
  list.replaceChildren(
    ...r.coverage.map((w) => {
      const li = el("li", null, w.warning ? "warn" : "");
      const who = w.source === "icp" ? `ICP ${w.name} v${w.version}` : `Import ${w.name}`;
      li.append(el("strong", who), document.createTextNode(`: ${w.message}`));
      if (w.warning) li.append(el("span", ` (${w.warning})`));
      return li;
    }),
  );
  if (r.coverage.length === 0)
    list.append(el("li", "No coverage measured yet (import accounts or re-score).", "empty"));
  $("workspace-status").textContent = `${num(r.total)} accounts`;
}

const RATES = [
  ["openRate", "open rate"],
  ["clickRate", "click rate"],
  ["replyRate", "reply rate"],
  ["meetingRate", "meeting rate"],
  ["winRate", "win rate"],
];

async function loadEngagement(f) {
  const r = await api("/v1/reports/engagement", { ...reportQuery(f), groupBy: f.groupBy });
  const labels = r.groups.map((g) => groupLabel(f.groupBy, g.group));
  chart("chart-engagement", {
    type: "bar",
    data: {
      labels,
      datasets: RATES.map(([k, label], i) => ({
        label,
        data: r.groups.map((g) => (g[k] === null ? 0 : Math.round(g[k] * 1000) / 10)),
        backgroundColor: PALETTE[i],
      })),
    },
    options: { scales: { y: { title: { display: true, text: "% of accounts reached" }, beginAtZero: true } } },
  });
  const row = (label, g) => [
    label,
    num(g.accountsReached),
    num(g.sent),
    pct(g.openRate),
    pct(g.clickRate),
    pct(g.replyRate),
    pct(g.meetingRate),
    num(g.won),
    pct(g.winRate),
    money(g.revenue),
  ];
  table(
    "engagement-table",
    [f.groupBy, "Reached", "Sent", "Open", "Click", "Reply", "Meeting", "Won", "Win rate", "Revenue"],
    [...r.groups.map((g, i) => row(labels[i], g)), row("total", r.totals)],
  );
}

async function loadLift(f) {
  const r = await api("/v1/reports/icp-lift", reportQuery(f));
  $("lift-value").textContent = r.lift === null ? (r.band === "5x+" ? "∞" : "–") : `${r.lift}x`;
  const band = $("lift-band");
  band.textContent = r.band;
  band.className = `band b-${r.band.replace("+", "")}`;
  const rate = (g) => (r.basis === "won" ? g.conversion : g.meetingRate);
  const hits = (g) => (r.basis === "won" ? g.won : g.meetings);
  const basis = r.basis === "won" ? "deals won" : "meetings (no deal won yet)";
  $("lift-detail").textContent =
    `ICP accounts convert ${pct(rate(r.icp))} (${hits(r.icp)} of ${r.icp.accounts}), ` +
    `others ${pct(rate(r.nonIcp))} (${hits(r.nonIcp)} of ${r.nonIcp.accounts}), on ${basis}. ` +
    "Target: at least 2x; 3-4x is good, 5x+ excellent.";
  chart("chart-lift", {
    type: "bar",
    data: {
      labels: ["ICP", "non-ICP", "priority tier", "other tiers"],
      datasets: [
        {
          label: `conversion (${r.basis}) %`,
          data: [r.icp, r.nonIcp, r.priority, r.nonPriority].map((g) => Math.round((rate(g) ?? 0) * 1000) / 10),
          backgroundColor: [PALETTE[1], PALETTE[8], TIER_COLORS.priority, PALETTE[8]],
        },
      ],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
  });
  table(
    "lift-tiers",
    ["Tier", "Reached", "Won", "Revenue", "Avg deal", "Sales cycle (days)"],
    r.byTier.map((t) => [
      t.tier,
      num(t.accountsReached),
      num(t.won),
      money(t.revenue),
      money(t.averageDealSize),
      t.salesCycleMedianDays ?? "–",
    ]),
  );
}

async function loadFunnel(f) {
  const { items } = await api("/v1/reports/funnel", reportQuery(f));
  const labels = [];
  const series = { sent: [], opened: [], clicked: [], replied: [] };
  for (const seq of items)
    for (const st of seq.steps) {
      labels.push(`${sequenceLabel(seq.sequence)} › ${st.step}`);
      for (const k of Object.keys(series)) series[k].push(st[k]);
    }
  chart("chart-funnel", {
    type: "bar",
    data: {
      labels,
      datasets: Object.entries(series).map(([k, data], i) => ({ label: k, data, backgroundColor: PALETTE[i] })),
    },
    options: {
      indexAxis: "y",
      scales: { x: { beginAtZero: true, title: { display: true, text: "accounts" } } },
    },
  });
}

async function loadVariants(f) {
  const { items } = await api("/v1/reports/variants", reportQuery(f));
  const variantIds = [...new Set(items.flatMap((c) => c.variants.map((v) => v.variant)))].sort();
  const labels = items.map((c) => `${sequenceLabel(c.sequence)} › ${c.step}`);
  chart("chart-variants", {
    type: "bar",
    data: {
      labels,
      datasets: variantIds.map((id, i) => ({
        label: `variant ${id}`,
        data: items.map((c) => {
          const v = c.variants.find((x) => x.variant === id);
          const rate = v ? v[c.metric] : null;
          return rate === null || rate === undefined ? 0 : Math.round(rate * 1000) / 10;
        }),
        backgroundColor: PALETTE[i],
      })),
    },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: "% of accounts sent" } } } },
  });
  table(
    "variants-table",
    ["Step", "Variant", "Sent", "Replied", "Reply rate", "Open rate", "p-value", "Winner"],
    items.flatMap((c, i) =>
      c.variants.map((v) => [
        labels[i],
        v.variant,
        num(v.accountsSent),
        num(v.replied),
        pct(v.replyRate),
        pct(v.openRate),
        c.test.pValue === null ? "–" : c.test.pValue.toFixed(3),
        c.winner === v.variant ? "winner" : c.winner === null && v.variant === c.test.a ? "not significant" : "",
      ]),
    ),
  );
}

const VERB = {
  sent: "was sent",
  delivered: "received",
  opened: "opened",
  clicked: "clicked",
  replied: "replied",
  bounced: "bounced",
  unsubscribed: "unsubscribed",
  connection_accepted: "accepted the LinkedIn invite",
  meeting_booked: "booked a meeting",
  opportunity_created: "became an opportunity",
  won: "won",
  lost: "lost",
};

async function loadActivity() {
  const { items } = await api("/v1/reports/activity", { limit: 30 });
  const list = $("activity");
  list.replaceChildren(
    ...items.map((e) => {
      const li = el("li");
      li.append(el("span", when(e.at), "muted"));
      const what = el("span", null, "what");
      what.append(el("strong", e.account?.name ?? e.account?.domain ?? e.accountId));
      what.append(document.createTextNode(` ${VERB[e.type] ?? e.type}`));
      if (e.amount !== undefined) what.append(document.createTextNode(` (${money(e.amount)})`));
      const tags = [e.account?.tier, e.sequenceId ? sequenceLabel(e.sequenceId) : undefined, e.stepId, e.variant];
      for (const t of tags) if (t) what.append(document.createTextNode(" "), el("span", t, "tag"));
      li.append(what);
      return li;
    }),
  );
  if (items.length === 0) list.append(el("li", "No engagement in the last 14 days.", "empty"));
}

async function loadMail() {
  const { items } = await api("/v1/mail", { limit: 10 });
  const list = $("mail");
  list.replaceChildren(
    ...items.map((m) => {
      const li = el("li");
      li.append(el("span", when(m.receivedAt), "muted"));
      const what = el("span", null, "what");
      what.append(el("strong", m.subject || "(no subject)"), document.createTextNode(` to ${m.to.join(", ")}`));
      li.append(what);
      return li;
    }),
  );
  if (items.length === 0)
    list.append(
      el("li", "No mail captured yet (in local mode the SMTP capture fills this as sequences send).", "empty"),
    );
}

// ---------------------------------------------------------------------------- orchestration

let generation = 0;

async function refresh() {
  const g = ++generation;
  const f = filters();
  document.body.dataset.state = "loading";
  $("load-status").textContent = "Loading…";
  $("error").textContent = "";
  $("groupby-label").textContent = f.groupBy;
  const sections = [loadTiers, loadEngagement, loadLift, loadFunnel, loadVariants, loadActivity, loadMail];
  const results = await Promise.allSettled(sections.map((load) => load(f)));
  if (g !== generation) return; // a newer refresh is on its way
  const failed = results.filter((r) => r.status === "rejected").map((r) => r.reason);
  if (failed.some((e) => e instanceof HttpError && e.status === 401)) return askForKey("This API key is not valid.");
  $("error").textContent = failed.map((e) => e.message).join(" · ");
  $("load-status").textContent = `Updated ${new Date().toLocaleTimeString()}`;
  document.body.dataset.state = "ready";
}

function askForKey(message) {
  sessionStorage.removeItem(KEY);
  $("main").hidden = true;
  $("forget-key").hidden = true;
  $("key-panel").hidden = false;
  $("key-error").textContent = message ?? "";
  $("api-key").focus();
  document.body.dataset.state = "key";
}

async function open() {
  try {
    await loadIcps();
  } catch (e) {
    return askForKey(e instanceof HttpError && e.status === 401 ? "This API key is not valid." : e.message);
  }
  $("key-panel").hidden = true;
  $("main").hidden = false;
  $("forget-key").hidden = false;
  await refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  $("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const key = $("api-key").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY, key);
    $("api-key").value = "";
    void open();
  });
  $("forget-key").addEventListener("click", () => askForKey());
  $("filters").addEventListener("change", () => void refresh());
  $("filters").addEventListener("submit", (ev) => ev.preventDefault());
  if (sessionStorage.getItem(KEY)) void open();
  else askForKey();
});
