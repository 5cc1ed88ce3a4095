// ANCHOR: api-base
// Every URL is relative ("/api/..."): the browser sends it to the origin that served this
// page, i.e. nginx, which proxies /api/ to the api service. An absolute URL that names
// localhost and the api's port would point at the viewer's own machine, where nothing
// listens, because the api is not published.
const API = "/api";
// ANCHOR_END: api-base

async function call(method, path, body) {
  const res = await fetch(API + path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok && res.status !== 204) throw new Error(method + " " + path + ": HTTP " + res.status);
  return res;
}

function render(tasks) {
  const list = document.getElementById("tasks");
  list.replaceChildren();
  for (const t of tasks) {
    const li = document.createElement("li");
    li.className = t.status;
    const text = document.createElement("span");
    text.textContent = t.title + " (" + t.status + ") ";
    const done = document.createElement("button");
    done.textContent = "done";
    done.onclick = () => call("PATCH", "/tasks/" + t.id, { status: "done" }).then(load);
    const del = document.createElement("button");
    del.textContent = "delete";
    del.onclick = () => call("DELETE", "/tasks/" + t.id).then(load);
    li.append(text, done, del);
    list.append(li);
  }
}

async function load() {
  const meta = document.getElementById("meta");
  try {
    const res = await call("GET", "/tasks");
    const data = await res.json();
    render(data.tasks);
    meta.textContent = data.tasks.length + " tasks, served from the " + data.source +
      " (X-Cache: " + res.headers.get("X-Cache") + ")";
  } catch (err) {
    meta.textContent = "Cannot load tasks: " + err.message;
  }
}

document.getElementById("new-task").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = document.getElementById("title");
  await call("POST", "/tasks", { title: input.value });
  input.value = "";
  load();
});

load();
