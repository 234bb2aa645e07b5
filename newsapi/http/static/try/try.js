// The page asks this server only (same origin): POST explanation, POST prediction?scores=true
// and GET model. Spans count Unicode code points, so the text is split with Array.from.
"use strict";

const $ = (id) => document.getElementById(id);
let withScores = true;

function message(body, response) {
  const detail = body && (body.detail ?? body.error);
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ");
  return `${response.status} ${response.statusText}`;
}

async function call(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(message(data, response));
  return data;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showBars(scores, explanation) {
  const bars = $("bars");
  bars.replaceChildren();
  const ranked = Object.entries(scores).sort((a, b) => b[1] - a[1]);
  for (const [name, probability] of ranked) {
    const kind = name === explanation.category ? "chosen" : name === explanation.runner_up ? "runner" : "";
    const bar = element("div", `bar ${kind}`);
    bar.dataset.category = name;
    const fill = element("div", "fill");
    fill.style.width = `${(probability * 100).toFixed(1)}%`;
    const track = element("div", "track");
    track.append(fill);
    bar.append(element("span", "name", name), track, element("span", "value", probability.toFixed(3)));
    bars.append(bar);
  }
  $("scores").hidden = false;
}

function showText(text, terms) {
  // each code point gets the term of largest weight that covers it (terms come largest first)
  const chars = Array.from(text);
  const owner = new Array(chars.length).fill(null);
  for (const term of terms) {
    for (const [start, end] of term.spans) {
      for (let i = start; i < end && i < chars.length; i++) if (owner[i] === null) owner[i] = term;
    }
  }
  const out = $("highlighted");
  out.replaceChildren();
  let i = 0;
  while (i < chars.length) {
    let j = i + 1;
    while (j < chars.length && owner[j] === owner[i]) j++;
    const piece = chars.slice(i, j).join("");
    const term = owner[i];
    if (term === null) {
      out.append(document.createTextNode(piece));
    } else {
      const mark = element("mark", term.weight >= 0 ? "for" : "against", piece);
      mark.title = `${term.term}: ${term.weight.toFixed(4)}`;
      out.append(mark);
    }
    i = j;
  }
}

function showTerms(terms) {
  const body = $("terms").tBodies[0];
  body.replaceChildren();
  for (const term of terms) {
    const row = element("tr");
    row.append(
      element("td", term.weight >= 0 ? "for" : "against", term.term),
      element("td", "number", term.weight.toFixed(4)),
      element("td", "number", String(term.spans.length)),
    );
    body.append(row);
  }
}

async function classify(event) {
  event.preventDefault();
  const text = $("text").value;
  $("error").hidden = true;
  try {
    const explanation = await call("explanation", { text, top: 10 });
    let scores = null;
    if (withScores) {
      try {
        scores = (await call("prediction?scores=true", { text })).scores;
      } catch (error) {
        withScores = false; // a classifier without probabilities (422): no bars, no more asking
      }
    }
    $("category").textContent = explanation.category;
    $("runner-up").textContent = explanation.runner_up;
    $("version").textContent = explanation.model_version;
    $("rest").textContent = explanation.rest.toFixed(4);
    $("bias").textContent = explanation.bias.toFixed(4);
    $("difference").textContent = explanation.difference.toFixed(4);
    if (scores) showBars(scores, explanation); else $("scores").hidden = true;
    showText(text, explanation.terms);
    showTerms(explanation.terms);
    $("answer").hidden = false;
  } catch (error) {
    $("error").textContent = error.message;
    $("error").hidden = false;
  }
}

async function start() {
  $("ask").addEventListener("submit", classify);
  try {
    const model = await call("model");
    $("version").textContent = model.model_version;
    $("card").hidden = !model.store_entry;
  } catch (error) {
    $("version").textContent = "not loaded";
  }
}

start();
