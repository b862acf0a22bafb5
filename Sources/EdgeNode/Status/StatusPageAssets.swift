/// The operator status page: plain HTML, CSS and JavaScript compiled into the binary (no CDN, no build step). The page
/// fetches `/status/data` every two seconds and renders it with `textContent` only (names, regions and flag reasons
/// come from configuration and gossip: never parsed as HTML).
enum StatusPageAssets {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>edgenode status</title>
        <link rel="stylesheet" href="/status/style.css">
        <script src="/status/app.js" defer></script>
        </head>
        <body>
        <header id="header"><h1>edgenode <span id="node">…</span> <span id="role" class="role"></span></h1>
        <div id="mode" class="mode">emergency mode: …</div><div id="updated" class="updated"></div></header>
        <main>
        <section id="fleet-section"><h2>Fleet as this node sees it</h2>
        <table id="fleet"><thead><tr><th>node</th><th>role</th><th>region</th><th>status</th><th>load</th><th>hit ratio</th>
        <th>connections</th><th>egress</th><th>incarnation</th><th>for</th></tr></thead><tbody></tbody></table></section>
        <section id="map-section"><h2>Map</h2><svg id="map" viewBox="0 0 800 400" role="img" aria-label="nodes by location"></svg>
        <div class="legend"><span class="dot alive"></span>alive <span class="dot suspect"></span>suspect <span class="dot dead"></span>dead
        <span class="dot left"></span>left <span class="zone-mark"></span>coverage zone</div></section>
        <section id="emergency-section"><h2>Emergency mode history</h2>
        <table id="emergency"><thead><tr><th>taken at</th><th>mode</th><th>epoch</th><th>signed by</th><th>reason</th></tr></thead>
        <tbody></tbody></table></section>
        <section id="decisions-section"><h2>Recent routing decisions</h2>
        <table id="decisions"><thead><tr><th>time</th><th>viewer</th><th>content</th><th>result</th><th>to</th><th>reason</th></tr></thead>
        <tbody></tbody></table></section>
        </main>
        </body>
        </html>
        """

    /// Answered (403) to a browser that is neither on loopback nor an allowed network: the operators' token, once
    /// typed, is kept in a SameSite=Strict cookie for this node.
    static let login = """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>edgenode status: token needed</title><link rel="stylesheet" href="/status/style.css">
        <script src="/status/app.js" defer></script></head>
        <body><header><h1>edgenode status</h1></header><main><section><h2>Operators only</h2>
        <p>This page is open to loopback and the networks in <code>[operators] allow</code>; elsewhere it needs the token of
        <code>[operators] token_file</code>.</p>
        <form id="login"><input id="token" type="password" autocomplete="off" placeholder="operators' token">
        <button type="submit">open</button></form></section></main></body>
        </html>
        """

    static let css = """
        :root { --alive: #2e9d4f; --suspect: #e0a100; --dead: #c8312b; --left: #8a8f98; --ink: #1d2330; --line: #d9dde5; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--ink); background: #f5f6f8; }
        header { background: #1d2330; color: #fff; padding: 12px 20px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
        h1 { font-size: 18px; margin: 0; } h2 { font-size: 15px; margin: 0 0 8px; }
        .role { font-weight: normal; opacity: .75; }
        .mode { padding: 2px 10px; border-radius: 10px; background: #3a4356; }
        .mode.on { background: var(--dead); } .mode.degraded { background: var(--suspect); }
        .updated { margin-left: auto; opacity: .7; font-size: 12px; }
        main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; padding: 16px 20px; align-items: start; }
        section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px; }
        #fleet-section, #decisions-section { grid-column: 1; } #map-section, #emergency-section { grid-column: 2; }
        table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); }
        th { font-weight: 600; font-size: 12px; color: #59606e; }
        td.status { font-weight: 600; } tr.alive td.status { color: var(--alive); } tr.suspect td.status { color: var(--suspect); }
        tr.dead td.status { color: var(--dead); } tr.left td.status { color: var(--left); }
        tr.me td:first-child::after { content: " (this node)"; color: #59606e; font-weight: normal; }
        #map { width: 100%; height: auto; background: #eef2f7; border-radius: 4px; }
        #map .grid { stroke: #d3dae6; stroke-width: 1; } #map text { font-size: 12px; fill: var(--ink); }
        #map circle.alive { fill: var(--alive); } #map circle.suspect { fill: var(--suspect); }
        #map circle.dead { fill: var(--dead); } #map circle.left { fill: var(--left); }
        #map rect.zone { fill: none; stroke: #4a6fd1; stroke-width: 2; }
        .legend { margin-top: 6px; font-size: 12px; color: #59606e; }
        .dot { display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin: 0 4px 0 10px; }
        .dot.alive { background: var(--alive); } .dot.suspect { background: var(--suspect); } .dot.dead { background: var(--dead); }
        .dot.left { background: var(--left); } .zone-mark { display: inline-block; width: 10px; height: 10px; border: 2px solid #4a6fd1; margin: 0 4px 0 10px; }
        td.on { color: var(--dead); font-weight: 600; }
        form { display: flex; gap: 8px; } input { flex: 1; padding: 6px; }
        """

    static let javascript = """
        "use strict";
        const statusOrder = ["alive", "suspect", "dead", "left"];
        function cell(row, text, className) {
          const td = document.createElement("td");
          td.textContent = text;
          if (className) td.className = className;
          row.appendChild(td);
          return td;
        }
        function fill(tbody, items, render) {
          tbody.replaceChildren(...items.map(item => { const row = document.createElement("tr"); render(row, item); return row; }));
        }
        function clock(seconds) { return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) + "Z"; }
        function duration(seconds) {
          if (seconds < 120) return Math.round(seconds) + " s";
          if (seconds < 7200) return Math.round(seconds / 60) + " min";
          return Math.round(seconds / 3600) + " h";
        }
        function bytes(perSecond) {
          const units = ["B/s", "KB/s", "MB/s", "GB/s"];
          let value = perSecond, unit = 0;
          while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++; }
          return value.toFixed(unit ? 1 : 0) + " " + units[unit];
        }
        const svg = "http://www.w3.org/2000/svg";
        function drawMap(data) {
          const map = document.getElementById("map");
          const members = data.cluster ? data.cluster.members : [];
          const points = members.map(m => [m.longitude, m.latitude]).concat(data.zones.map(z => [z.longitude, z.latitude]));
          if (points.length === 0) { map.replaceChildren(); return; }
          let [west, east] = [Math.min(...points.map(p => p[0])), Math.max(...points.map(p => p[0]))];
          let [south, north] = [Math.min(...points.map(p => p[1])), Math.max(...points.map(p => p[1]))];
          const padX = Math.max(2, (east - west) * 0.15), padY = Math.max(2, (north - south) * 0.15);
          west -= padX; east += padX; south -= padY; north += padY;
          const scale = Math.min(800 / (east - west), 400 / (north - south));
          const x = lon => 400 + (lon - (west + east) / 2) * scale, y = lat => 200 - (lat - (south + north) / 2) * scale;
          const shapes = [];
          const step = [1, 2, 5, 10, 20, 30].find(s => (east - west) / s <= 12) || 45;
          for (let lon = Math.ceil(west / step) * step; lon <= east; lon += step) {
            const line = document.createElementNS(svg, "line");
            line.setAttribute("class", "grid"); line.setAttribute("x1", x(lon)); line.setAttribute("x2", x(lon));
            line.setAttribute("y1", 0); line.setAttribute("y2", 400); shapes.push(line);
          }
          for (let lat = Math.ceil(south / step) * step; lat <= north; lat += step) {
            const line = document.createElementNS(svg, "line");
            line.setAttribute("class", "grid"); line.setAttribute("y1", y(lat)); line.setAttribute("y2", y(lat));
            line.setAttribute("x1", 0); line.setAttribute("x2", 800); shapes.push(line);
          }
          for (const zone of data.zones) {
            const mark = document.createElementNS(svg, "rect");
            mark.setAttribute("class", "zone"); mark.setAttribute("x", x(zone.longitude) - 7); mark.setAttribute("y", y(zone.latitude) - 7);
            mark.setAttribute("width", 14); mark.setAttribute("height", 14); mark.setAttribute("data-zone", zone.name);
            const title = document.createElementNS(svg, "title"); title.textContent = "zone " + zone.name; mark.appendChild(title);
            shapes.push(mark);
          }
          for (const member of members) {
            const dot = document.createElementNS(svg, "circle");
            dot.setAttribute("class", member.status); dot.setAttribute("r", 9);
            dot.setAttribute("cx", x(member.longitude)); dot.setAttribute("cy", y(member.latitude));
            dot.setAttribute("data-node", member.name);
            const title = document.createElementNS(svg, "title"); title.textContent = member.name + " (" + member.status + ")";
            dot.appendChild(title);
            const label = document.createElementNS(svg, "text");
            label.setAttribute("x", x(member.longitude) + 12); label.setAttribute("y", y(member.latitude) + 4);
            label.textContent = member.name;
            shapes.push(dot, label);
          }
          map.replaceChildren(...shapes);
          // Where each marker landed on the screen (CSS pixels), for tests and tools that read the rendered page.
          for (const dot of map.querySelectorAll("circle")) {
            const box = dot.getBoundingClientRect();
            dot.setAttribute("data-screen", Math.round(box.left + box.width / 2) + "," + Math.round(box.top + box.height / 2));
          }
        }
        function render(data) {
          document.getElementById("node").textContent = data.node;
          document.getElementById("role").textContent = data.role;
          const emergency = data.cluster && data.cluster.emergency;
          const mode = document.getElementById("mode");
          mode.textContent = "emergency mode: " + (emergency ? emergency.mode + " (epoch " + emergency.epoch + ")" : "off");
          mode.className = "mode" + (emergency && emergency.mode === "on" ? " on" : "");
          document.getElementById("updated").textContent = "updated " + clock(data.time);
          const members = (data.cluster ? data.cluster.members : []).slice()
            .sort((a, b) => statusOrder.indexOf(a.status) - statusOrder.indexOf(b.status) || a.name.localeCompare(b.name));
          fill(document.querySelector("#fleet tbody"), members, (row, m) => {
            row.className = m.status + (m.name === data.node ? " me" : "");
            row.setAttribute("data-node", m.name);
            row.setAttribute("data-status", m.status);
            cell(row, m.name); cell(row, m.role); cell(row, m.region); cell(row, m.status, "status");
            cell(row, (m.health.loadScore / 10).toFixed(1) + " %"); cell(row, (m.health.cacheHitRatio * 100).toFixed(1) + " %");
            cell(row, String(m.health.activeConnections)); cell(row, bytes(m.health.egressBytesPerSecond));
            cell(row, String(m.incarnation)); cell(row, duration(m.statusSecondsAgo));
          });
          fill(document.querySelector("#emergency tbody"), data.emergencyHistory.slice().reverse(), (row, e) => {
            cell(row, clock(e.time)); cell(row, e.mode, e.mode); cell(row, String(e.epoch)); cell(row, e.signedBy.join(", ")); cell(row, e.reason);
          });
          fill(document.querySelector("#decisions tbody"), data.decisions.slice().reverse(), (row, d) => {
            cell(row, clock(d.time)); cell(row, d.viewer); cell(row, d.content); cell(row, d.result); cell(row, d.target); cell(row, d.reason);
          });
          drawMap(data);
          document.body.setAttribute("data-rendered", String(data.time));
        }
        async function refresh() {
          try {
            const response = await fetch("/status/data", { credentials: "same-origin", cache: "no-store" });
            if (response.ok) render(await response.json());
            else document.getElementById("updated").textContent = "refresh failed: " + response.status;
          } catch (error) {
            document.getElementById("updated").textContent = "node unreachable";
          }
        }
        const login = document.getElementById("login");
        if (login) {
          login.addEventListener("submit", event => {
            event.preventDefault();
            document.cookie = "edgenode_operator=" + encodeURIComponent(document.getElementById("token").value) +
              "; path=/; SameSite=Strict";
            location.reload();
          });
        } else {
          refresh();
          setInterval(refresh, 2000);
        }
        """
}
