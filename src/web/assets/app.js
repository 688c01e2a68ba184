// The auditor's page: plain JS, no build step. All data comes from /audit/api with the
// auditor's bearer token (kept in sessionStorage, sent only to this origin). Every value
// from the store is written with textContent, never as HTML.
"use strict";

const T = {
  vi: {
    title: "Nhật ký trao đổi dữ liệu", token: "Mã truy cập của kiểm toán viên", signin: "Đăng nhập",
    logout: "Đăng xuất", from: "Từ ngày", to: "Đến ngày", agency: "Cơ quan (gửi hoặc nhận)",
    consumer: "Cơ quan gửi", provider: "Cơ quan cung cấp", service: "Dịch vụ", operation: "Thao tác",
    outcome: "Kết quả", any: "(tất cả)", accepted: "chấp nhận", rejected: "từ chối", failed: "lỗi",
    fault: "Mã lỗi", q: "Mã trao đổi / chứng thư", search: "Tìm kiếm", exportCsv: "Xuất CSV",
    exportJsonl: "Xuất JSONL", chart: "Số lượt trao đổi theo ngày và cơ quan gửi", results: "Kết quả",
    time: "Thời gian (UTC)", id: "Mã trao đổi", more: "Xem thêm", detail: "Chi tiết trao đổi",
    close: "Đóng", none: "Không có trao đổi nào phù hợp.", shown: "đang hiển thị",
    badToken: "Mã truy cập không hợp lệ.", unavailable: "Kho nhật ký không truy cập được.",
    badParam: "Tham số không hợp lệ", chain: "Chuỗi băm", hashOk: "băm khớp nội dung",
    hashBad: "BĂM KHÔNG KHỚP NỘI DUNG", linkOk: "liên kết với bản ghi trước khớp",
    linkBad: "LIÊN KẾT VỚI BẢN GHI TRƯỚC KHÔNG KHỚP", linkNone: "bản ghi đầu của chuỗi",
    sealOk: "được niêm phong (chữ ký hợp lệ)", sealBad: "NIÊM PHONG CÓ CHỮ KÝ SAI",
    sealNone: "chưa được niêm phong", messages: "Thông điệp", request_in: "Yêu cầu nhận được",
    request_out: "Yêu cầu chuyển đi", response_in: "Trả lời nhận được", response_out: "Trả lời gửi đi",
    whole: "lưu đầy đủ", truncated: "lưu cắt ngắn", "hash-only": "chỉ lưu băm", bytes: "byte",
    received: "Nhận lúc", forwarded: "Chuyển lúc", answered: "Trả lời lúc", remote: "Địa chỉ gửi",
    cert: "Chứng thư", endpoint: "Điểm cuối", soap: "SOAP", reason: "Lý do", node: "Nút / số thứ tự",
    mapping: "Ánh xạ", total: "tổng", last30: "30 ngày gần nhất"
  },
  en: {
    title: "Data exchange log", token: "Auditor access token", signin: "Sign in", logout: "Sign out",
    from: "From", to: "To", agency: "Agency (either side)", consumer: "Consumer agency",
    provider: "Provider agency", service: "Service", operation: "Operation", outcome: "Outcome",
    any: "(any)", accepted: "accepted", rejected: "rejected", failed: "failed", fault: "Fault code",
    q: "Exchange id / certificate", search: "Search", exportCsv: "Export CSV",
    exportJsonl: "Export JSONL", chart: "Exchanges per day and consumer agency", results: "Results",
    time: "Time (UTC)", id: "Exchange id", more: "More", detail: "Exchange detail", close: "Close",
    none: "No exchange matches.", shown: "shown", badToken: "Invalid access token.",
    unavailable: "The audit store cannot be reached.", badParam: "Invalid parameter",
    chain: "Hash chain", hashOk: "hash matches content", hashBad: "HASH DOES NOT MATCH CONTENT",
    linkOk: "link to previous record matches", linkBad: "LINK TO PREVIOUS RECORD DOES NOT MATCH",
    linkNone: "first record of the chain", sealOk: "sealed (signature valid)",
    sealBad: "SEAL SIGNATURE INVALID", sealNone: "not sealed yet", messages: "Messages",
    request_in: "Request as received", request_out: "Request as forwarded",
    response_in: "Answer as received", response_out: "Answer as sent", whole: "stored whole",
    truncated: "stored truncated", "hash-only": "hash only", bytes: "bytes", received: "Received",
    forwarded: "Forwarded", answered: "Answered", remote: "Remote address", cert: "Certificate",
    endpoint: "Endpoint", soap: "SOAP", reason: "Reason", node: "Node / seq", mapping: "Mapping",
    total: "total", last30: "last 30 days"
  }
};

let lang = localStorage.getItem("lt-lang") || "vi";
let agencies = {};
let nextCursor = null;
let shownCount = 0;
let pendingFragment = null;
const $ = (id) => document.getElementById(id);
const t = (k) => (T[lang] && T[lang][k]) || k;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function applyLang() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((e) => { e.textContent = t(e.dataset.i18n); });
  $("lang").textContent = lang === "vi" ? "English" : "Tiếng Việt";
  document.title = "lienthong — " + t("title");
}

function token() { return sessionStorage.getItem("lt-token"); }

async function api(path) {
  // Without a token, the browser's TLS client certificate (when the listener asks for one
  // and the auditor's is listed) is the credential.
  const headers = token() ? { Authorization: "Bearer " + token() } : {};
  const r = await fetch("/audit/api/" + path, { headers: headers });
  if (r.status === 401) { logout(); throw new Error(t("badToken")); }
  if (!r.ok) {
    let msg = r.status === 503 ? t("unavailable") : "HTTP " + r.status;
    try {
      const j = await r.json();
      if (j.parameter) msg = t("badParam") + " “" + j.parameter + "”: " + j.reason;
      else if (j.error) msg = j.error;
    } catch (_) { /* not JSON */ }
    throw new Error(msg);
  }
  return r;
}

function agencyCell(code) {
  const td = el("td");
  td.appendChild(el("span", code || "-"));
  if (code && agencies[code]) td.appendChild(el("span", agencies[code], "name"));
  return td;
}

function withName(code) {
  if (!code) return "-";
  return agencies[code] ? code + " — " + agencies[code] : code;
}

function params(extra) {
  const p = new URLSearchParams();
  const f = new FormData($("search"));
  for (const [k, v] of f.entries()) if (String(v).trim() !== "") p.set(k, String(v).trim());
  for (const k in (extra || {})) p.set(k, extra[k]);
  return p;
}

function showError(id, msg) { const e = $(id); e.textContent = msg || ""; e.hidden = !msg; }

async function search(more) {
  showError("search-error", "");
  const extra = { limit: "50" };
  if (more && nextCursor) extra.cursor = nextCursor;
  try {
    const page = await (await api("exchanges?" + params(extra))).json();
    const tbody = $("results").querySelector("tbody");
    if (!more) { tbody.textContent = ""; shownCount = 0; }
    for (const r of page.items) tbody.appendChild(row(r));
    shownCount += page.items.length;
    nextCursor = page.next_cursor;
    $("more").hidden = !nextCursor;
    $("count").textContent = shownCount === 0 ? t("none") : "(" + shownCount + " " + t("shown") + ")";
    if (!more) await chart();
  } catch (e) { showError("search-error", e.message); }
}

function row(r) {
  const tr = el("tr");
  tr.dataset.id = r.id;
  tr.appendChild(el("td", r.received_at.replace("T", " ").slice(0, 23)));
  tr.appendChild(el("td", r.id, "id"));
  tr.appendChild(agencyCell(r.consumer));
  tr.appendChild(el("td", r.service || "-"));
  tr.appendChild(el("td", r.operation || "-"));
  tr.appendChild(el("td", t(r.outcome), "outcome-" + r.outcome));
  tr.appendChild(el("td", r.fault_code || "-"));
  tr.appendChild(el("td", r.http_status));
  tr.appendChild(el("td", r.ms === null ? "-" : r.ms));
  tr.addEventListener("click", () => detail(r.id));
  return tr;
}

const COLOURS = ["#a4161a", "#1f6feb", "#1b7f3b", "#b08800", "#8250df", "#cf222e", "#0a7ea4", "#6e7781"];

async function chart() {
  const box = $("chart");
  box.textContent = "";
  // Without a date range the chart covers the last 30 days: a chart of the whole store
  // would scan every record.
  const extra = {};
  const form = $("search");
  let title = t("chart");
  if (!form.elements.from.value && !form.elements.to.value) {
    extra.from = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);
    title += " — " + t("last30");
  }
  $("chart-title").textContent = title;
  const s = await (await api("stats?" + params(extra))).json();
  if (!s.items.length) return;
  const days = [...new Set(s.items.map((i) => i.day))].sort();
  const consumers = [...new Set(s.items.map((i) => i.consumer || "-"))].sort();
  const totals = {};
  for (const i of s.items) totals[i.day] = (totals[i.day] || 0) + i.count;
  const max = Math.max(...Object.values(totals));
  const W = 900, H = 240, L = 50, B = 40, bw = Math.max(4, Math.min(60, (W - L - 10) / days.length - 6));
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 " + W + " " + (H + B));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("chart"));
  const mk = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  };
  mk("line", { x1: L, y1: H, x2: W, y2: H, stroke: "#999" });
  mk("text", { x: L - 6, y: 12, "text-anchor": "end", "font-size": 11 }, String(max));
  mk("text", { x: L - 6, y: H, "text-anchor": "end", "font-size": 11 }, "0");
  days.forEach((day, di) => {
    const x = L + 8 + di * ((W - L - 10) / days.length);
    let y = H;
    consumers.forEach((c, ci) => {
      const item = s.items.find((i) => i.day === day && (i.consumer || "-") === c);
      if (!item) return;
      const h = (item.count / max) * (H - 20);
      y -= h;
      const rect = mk("rect", { x: x, y: y, width: bw, height: Math.max(h, 0.5), fill: COLOURS[ci % COLOURS.length], "data-day": day, "data-consumer": c, "data-count": item.count });
      const title = document.createElementNS(NS, "title");
      title.textContent = day + " · " + withName(item.consumer) + ": " + item.count;
      rect.appendChild(title);
    });
    mk("text", { x: x + bw / 2, y: y - 3, "text-anchor": "middle", "font-size": 10 }, String(totals[day]));
    mk("text", { x: x + bw / 2, y: H + 14, "text-anchor": "middle", "font-size": 10 }, day.slice(5));
  });
  box.appendChild(svg);
  const legend = el("div", null, "legend");
  consumers.forEach((c, ci) => {
    const span = el("span");
    const sw = el("i");
    sw.style.background = COLOURS[ci % COLOURS.length];
    span.appendChild(sw);
    span.appendChild(document.createTextNode(withName(c === "-" ? null : c)));
    legend.appendChild(span);
  });
  box.appendChild(legend);
}

async function detail(id) {
  try {
    const d = await (await api("exchanges/" + encodeURIComponent(id))).json();
    const body = $("detail-body");
    body.textContent = "";
    $("detail-id").textContent = id;
    for (const r of d.items) body.appendChild(record(r));
    $("detail").hidden = false;
    $("detail").scrollIntoView();
  } catch (e) { showError("search-error", e.message); }
}

function record(r) {
  const div = el("div");
  const dl = el("dl");
  const add = (k, v) => { dl.appendChild(el("dt", t(k))); dl.appendChild(el("dd", v === null || v === undefined || v === "" ? "-" : v)); };
  add("node", r.node_id + " #" + r.seq);
  add("received", r.received_at);
  add("forwarded", r.forwarded_at);
  add("answered", r.answered_at);
  add("remote", r.remote_addr);
  add("consumer", withName(r.consumer));
  add("cert", r.consumer_cert);
  add("provider", withName(r.provider));
  add("service", (r.service || "-") + " / " + (r.operation || "-"));
  add("endpoint", r.provider_endpoint);
  add("soap", r.soap_version);
  add("outcome", t(r.outcome) + " (HTTP " + r.http_status + ")");
  add("fault", r.fault_code);
  add("reason", r.fault_reason);
  add("mapping", (r.request_mapping || "-") + " / " + (r.response_mapping || "-"));
  div.appendChild(dl);

  div.appendChild(el("h3", t("chain")));
  const c = r.chain;
  const ul = el("ul", null, "chain");
  const li = (ok, good, bad) => ul.appendChild(el("li", ok ? t(good) : t(bad), ok ? "status-ok" : "status-bad"));
  li(c.hash_matches, "hashOk", "hashBad");
  if (c.link_matches === null) ul.appendChild(el("li", t("linkNone"))); else li(c.link_matches, "linkOk", "linkBad");
  if (!c.seal) ul.appendChild(el("li", t("sealNone")));
  else li(c.seal.signature_ok, "sealOk", "sealBad");
  ul.appendChild(el("li", "SHA-256: " + r.hash, "id"));
  div.appendChild(ul);

  div.appendChild(el("h3", t("messages")));
  for (const m of r.messages) {
    div.appendChild(el("h4", t(m.kind) + " — " + m.size + " " + t("bytes") + ", " + t(m.stored)));
    div.appendChild(el("div", "SHA-256 " + m.sha256 + (m.sha256_matches === false ? " ✗" : ""), "id"));
    if (m.text !== null) div.appendChild(el("pre", m.text));
  }
  return div;
}

async function exportAs(format) {
  showError("search-error", "");
  try {
    const r = await api("export?" + params({ format: format }));
    const blob = await r.blob();
    const a = el("a");
    a.href = URL.createObjectURL(blob);
    a.download = "lienthong-audit." + format;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch (e) { showError("search-error", e.message); }
}

function fillAgencies() {
  for (const name of ["agency", "consumer", "provider"]) {
    const sel = $("search").elements[name];
    sel.textContent = "";
    const any = el("option", t("any"));
    any.value = "";
    any.dataset.i18n = "any";
    sel.appendChild(any);
    for (const code of Object.keys(agencies).sort()) {
      const o = el("option", code + " — " + agencies[code]);
      o.value = code;
      sel.appendChild(o);
    }
  }
}

async function start() {
  try {
    const who = await (await api("whoami")).json();
    agencies = await (await api("agencies")).json();
    $("who").textContent = who.auditor;
    $("login-view").hidden = true;
    $("main-view").hidden = false;
    $("logout").hidden = false;
    fillAgencies();
    applyLang();
    const frag = pendingFragment;
    pendingFragment = null;
    if (frag) {
      const form = $("search");
      for (const [k, v] of frag.entries()) if (form.elements[k]) form.elements[k].value = v;
    }
    await search(false);
    if (frag && frag.get("id")) await detail(frag.get("id"));
  } catch (e) {
    showError("login-error", e.message);
  }
}

function logout() {
  sessionStorage.removeItem("lt-token");
  $("main-view").hidden = true;
  $("login-view").hidden = false;
  $("logout").hidden = true;
  $("who").textContent = "";
}

document.addEventListener("DOMContentLoaded", () => {
  applyLang();
  $("lang").addEventListener("click", () => {
    lang = lang === "vi" ? "en" : "vi";
    localStorage.setItem("lt-lang", lang);
    applyLang();
    if (!$("main-view").hidden) search(false);
  });
  $("login").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem("lt-token", $("token").value.trim());
    showError("login-error", "");
    start();
  });
  $("logout").addEventListener("click", logout);
  $("search").addEventListener("submit", (ev) => { ev.preventDefault(); search(false); });
  $("more").addEventListener("click", () => search(true));
  $("close-detail").addEventListener("click", () => { $("detail").hidden = true; });
  $("export-csv").addEventListener("click", () => exportAs("csv"));
  $("export-jsonl").addEventListener("click", () => exportAs("jsonl"));
  // The URL fragment may carry a search (#consumer=...&from=...), a detail to open (#id=...),
  // the language (#lang=en) and a token (#token=..., removed from the address bar at once).
  // Fragments never reach the server or its logs.
  const frag = new URLSearchParams(location.hash.slice(1));
  if (frag.get("token")) sessionStorage.setItem("lt-token", frag.get("token"));
  if (frag.get("lang") === "en" || frag.get("lang") === "vi") { lang = frag.get("lang"); applyLang(); }
  if (location.hash) history.replaceState(null, "", location.pathname);
  pendingFragment = frag;
  if (token()) start();
  else {
    // Signed in by client certificate? Ask quietly; the token form stays if not.
    fetch("/audit/api/whoami").then((r) => { if (r.ok) start(); }).catch(() => {});
  }
});
