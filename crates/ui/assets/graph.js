// Sightline's graph view (/ui/objects/{id}/graph): draws the neighbourhood
// with cytoscape.js, expands a node on a click (on the canvas or its
// button.expand in #graph-nodes) by merging its depth-1 neighbourhood from
// graph.json, and hides types unticked in #graph-filter. The page works
// without this file: the list is server-rendered and its buttons submit.
// No inline code or styles anywhere (the CSP allows neither); every text
// goes in through textContent.
(function () {
  'use strict';
  var box = document.getElementById('graph');
  if (!box || typeof cytoscape !== 'function') { return; }
  var list = document.getElementById('graph-nodes');
  var count = document.getElementById('graph-count');
  var status = document.getElementById('graph-status');
  var filter = document.getElementById('graph-filter');
  var seed = box.getAttribute('data-seed');
  var depth = box.getAttribute('data-depth') || '1';
  var expandedParam = box.getAttribute('data-expanded') || '';
  var expanded = {};
  expanded[seed] = true;
  var busy = false;

  // Colours by type (style.css gives the filter's swatches the same).
  var colours = {
    'intrusion-set': '#c0392b', 'threat-actor': '#8e44ad', 'campaign': '#d35400',
    'malware': '#b7950b', 'tool': '#16a085', 'attack-pattern': '#2471a3',
    'indicator': '#1e8449', 'identity': '#5d6d7e', 'vulnerability': '#7b241c',
    'report': '#2e4053', 'location': '#117a65', 'course-of-action': '#1f618d'
  };
  var style = [
    { selector: 'node', style: {
      'background-color': '#7f8c8d', 'label': 'data(label)', 'font-size': 9,
      'color': '#1a1a1a', 'text-valign': 'bottom', 'text-margin-y': 2,
      'width': 14, 'height': 14, 'text-max-width': 120, 'text-wrap': 'ellipsis',
      'min-zoomed-font-size': 6 } },
    { selector: 'node[?missing]', style: {
      'background-color': '#ffffff', 'border-width': 1, 'border-style': 'dashed',
      'border-color': '#6b6b6b' } },
    { selector: 'node[?seed]', style: {
      'width': 26, 'height': 26, 'border-width': 3, 'border-color': '#12355b',
      'font-weight': 'bold' } },
    { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#b35900' } },
    // A crowded drawing names only the object, a hovered or selected node
    // until zoomed in (`quiet`).
    { selector: 'node.quiet', style: { 'label': '' } },
    { selector: 'node.quiet[?seed], node.quiet:selected, node.quiet.hover', style: { 'label': 'data(label)' } },
    { selector: 'node.hover, node:selected, node[?seed]', style: { 'z-index': 10 } },
    { selector: 'edge', style: {
      'width': 1, 'line-color': '#b0b0b0', 'curve-style': 'straight',
      'target-arrow-shape': 'triangle', 'target-arrow-color': '#b0b0b0',
      'arrow-scale': 0.6 } },
    { selector: '.filtered', style: { 'display': 'none' } }
  ];
  Object.keys(colours).forEach(function (t) {
    style.push({ selector: 'node[type = "' + t + '"]', style: { 'background-color': colours[t] } });
  });

  box.hidden = false;
  var cy = cytoscape({
    container: box, style: style, elements: [],
    minZoom: 0.05, maxZoom: 4, boxSelectionEnabled: false
  });

  function jsonUrl(id, d, extra) {
    return '/ui/objects/' + encodeURIComponent(id) + '/graph.json?depth=' + d + (extra || '');
  }

  function hiddenTypes() {
    var h = {};
    if (!filter) { return h; }
    filter.querySelectorAll('input[type=checkbox][name=type]').forEach(function (c) {
      if (!c.checked) { h[c.value] = true; }
    });
    return h;
  }

  // Nodes and edges of a graph.json answer into the drawing. `base`: the
  // depth of the node expanded (new nodes are that many hops further).
  function merge(data, base) {
    var add = [];
    data.nodes.forEach(function (n) {
      if (cy.getElementById(n.id).nonempty()) { return; }
      var missing = n.presence !== 'present';
      add.push({ group: 'nodes', data: {
        id: n.id, type: n.type, depth: base + n.depth, missing: missing,
        seed: n.id === seed, name: missing ? null : n.name,
        external_id: missing ? null : n.external_id,
        label: missing ? n.id : (n.name || n.id)
      } });
    });
    data.edges.forEach(function (e) {
      var id = e.source + ' ' + e.label + ' ' + e.target;
      if (cy.getElementById(id).nonempty()) { return; }
      add.push({ group: 'edges', data: { id: id, source: e.source, target: e.target, label: e.label } });
    });
    // Edges whose ends are not both drawn are dropped (cytoscape refuses them).
    var known = {};
    cy.nodes().forEach(function (n) { known[n.id()] = true; });
    add.forEach(function (a) { if (a.group === 'nodes') { known[a.data.id] = true; } });
    cy.add(add.filter(function (a) {
      return a.group === 'nodes' || (known[a.data.source] && known[a.data.target]);
    }));
    if (data.truncated) {
      status.textContent = 'The node limit was reached: not every neighbour is shown.';
    }
  }

  function badge(type) {
    var s = document.createElement('span');
    s.className = 'badge type-badge type-' + type.toLowerCase().replace(/[^a-z0-9]/g, '-');
    s.textContent = type;
    return s;
  }

  // The accessible list, in the server's markup (pages.rs `graph_node`).
  function renderList() {
    var hide = hiddenTypes();
    var nodes = cy.nodes().sort(function (a, b) {
      return (a.data('depth') - b.data('depth')) ||
        (a.data('type') < b.data('type') ? -1 : a.data('type') > b.data('type') ? 1 : 0) ||
        (a.data('label') < b.data('label') ? -1 : 1);
    });
    var frag = document.createDocumentFragment();
    nodes.forEach(function (n) {
      if (hide[n.data('type')] && !n.data('seed')) { return; }
      var li = document.createElement('li');
      li.setAttribute('data-id', n.id());
      li.setAttribute('data-type', n.data('type'));
      li.appendChild(badge(n.data('type')));
      li.appendChild(document.createTextNode(' '));
      if (n.data('missing')) {
        var c = document.createElement('code');
        c.textContent = n.id();
        li.appendChild(c);
        var m = document.createElement('span');
        m.className = 'missing';
        m.textContent = ' (not in the store)';
        li.appendChild(m);
      } else {
        var a = document.createElement('a');
        a.href = '/ui/objects/' + encodeURIComponent(n.id());
        a.textContent = n.data('label');
        li.appendChild(a);
        if (n.data('external_id')) {
          li.appendChild(document.createTextNode(' '));
          var x = document.createElement('code');
          x.className = 'extid';
          x.textContent = n.data('external_id');
          li.appendChild(x);
        }
        if (!expanded[n.id()]) {
          li.appendChild(document.createTextNode(' '));
          var b = document.createElement('button');
          b.type = 'button';
          b.className = 'expand';
          b.setAttribute('data-id', n.id());
          b.setAttribute('aria-label', 'Expand ' + n.data('label'));
          b.textContent = 'Expand';
          li.appendChild(b);
        }
      }
      frag.appendChild(li);
    });
    list.replaceChildren(frag);
  }

  function applyFilter() {
    var hide = hiddenTypes();
    cy.batch(function () {
      cy.nodes().forEach(function (n) {
        if (hide[n.data('type')] && !n.data('seed')) { n.addClass('filtered'); } else { n.removeClass('filtered'); }
      });
    });
    var nodes = cy.nodes().not('.filtered');
    var edges = nodes.edgesWith(nodes);
    count.textContent = nodes.length + ' nodes, ' + edges.length + ' edges';
  }

  // cose (force-directed, animation off) shows clusters, but its iterations
  // are O(n^2): headless Chromium here took 0.3 s at 100 nodes, 1.1 s at
  // 200, 3 s at 300, 8 s at 500. Beyond 150 nodes, rings by hops from the
  // object (concentric: 0.1 s at 500, no overlap, the object in the middle)
  // keep the drawing readable and quick.
  var COSE_MAX = 150;
  function layout() {
    var els = cy.elements().not('.filtered');
    var n = els.nodes().length;
    var opts = n <= COSE_MAX
      ? { name: 'cose', animate: false, randomize: false, fit: true, padding: 20,
          nodeRepulsion: function () { return 8000; }, idealEdgeLength: function () { return 60; },
          numIter: 600 }
      : { name: 'concentric', animate: false, fit: true, padding: 20, avoidOverlap: true,
          minNodeSpacing: 4, concentric: function (node) { return 10 - node.data('depth'); },
          levelWidth: function () { return 1; } };
    els.layout(opts).run();
  }

  // More nodes than this drawn: labels only when zoomed in past QUIET_ZOOM.
  var LABELS_MAX = 40, QUIET_ZOOM = 2, quietNow = null;
  function quiet() {
    var q = cy.nodes().not('.filtered').length > LABELS_MAX && cy.zoom() < QUIET_ZOOM;
    if (q === quietNow) { return; }
    quietNow = q;
    cy.batch(function () { cy.nodes().toggleClass('quiet', q); });
  }

  function refresh() {
    applyFilter();
    renderList();
    layout();
    quietNow = null;
    quiet();
  }

  // The form's `expanded` field follows, so Apply (another depth, say)
  // keeps what was expanded here.
  function remember() {
    var form = document.getElementById('graph-form');
    if (!form || !filter) { return; }
    var field = form.querySelector('input[name=expanded]');
    if (!field) {
      field = document.createElement('input');
      field.type = 'hidden';
      field.name = 'expanded';
      filter.appendChild(field);
    }
    field.value = Object.keys(expanded).filter(function (i) { return i !== seed; }).slice(0, 20).join(',');
  }

  function expand(id) {
    if (busy || expanded[id]) { return; }
    var node = cy.getElementById(id);
    if (node.empty() || node.data('missing')) { return; }
    busy = true;
    status.textContent = 'Expanding ' + node.data('label') + '…';
    fetch(jsonUrl(id, 1), { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (r) {
        if (!r.ok) { throw new Error('the server answered ' + r.status); }
        return r.json();
      })
      .then(function (data) {
        expanded[id] = true;
        status.textContent = '';
        merge(data, node.data('depth'));
        refresh();
        remember();
      })
      .catch(function (e) { status.textContent = 'Could not expand: ' + e.message; })
      .then(function () { busy = false; });
  }

  cy.on('tap', 'node', function (e) { expand(e.target.id()); });
  cy.on('zoom', quiet);
  cy.on('mouseover', 'node', function (e) { e.target.addClass('hover'); });
  cy.on('mouseout', 'node', function (e) { e.target.removeClass('hover'); });
  list.addEventListener('click', function (e) {
    var b = e.target.closest('button.expand');
    if (!b) { return; }
    e.preventDefault();
    expand(b.getAttribute('data-id'));
  });
  if (filter) {
    filter.addEventListener('change', function (e) {
      if (e.target.name === 'type') { refresh(); }
    });
  }

  // The page carries what it lists (data-graph); else ask graph.json.
  var extra = expandedParam ? '&expanded=' + encodeURIComponent(expandedParam) : '';
  var embedded = box.getAttribute('data-graph');
  var first = embedded
    ? Promise.resolve().then(function () { return JSON.parse(embedded); })
    : fetch(jsonUrl(seed, depth, extra), { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (r) {
        if (!r.ok) { throw new Error('the server answered ' + r.status); }
        return r.json();
      });
  box.removeAttribute('data-graph');
  first
    .then(function (data) {
      expandedParam.split(',').forEach(function (i) { if (i) { expanded[i] = true; } });
      merge(data, 0);
      refresh();
    })
    .catch(function (e) { status.textContent = 'Could not load the graph: ' + e.message; });
}());
