// Renders /api/v1/openapi.json as a readable page (no CDN, no framework): description, then each
// operation with its parameters, body schema and answers.
(function () {
  "use strict";
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function resolve(spec, schema) {
    if (schema && schema.$ref) { return spec.components.schemas[schema.$ref.split("/").pop()]; }
    return schema;
  }
  function show(spec) {
    var intro = document.getElementById("intro");
    intro.appendChild(el("pre", {}, [spec.info.description]));
    var ops = document.getElementById("operations");
    ops.textContent = "";
    Object.keys(spec.paths).forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        var box = el("div", {"class": "op", "id": op.operationId}, [
          el("h3", {}, [el("span", {"class": "method " + method}, [method]), " /api/v1" + path]),
          el("p", {}, [op.summary || ""])]);
        var params = (op.parameters || []).map(function (p) {
          return el("tr", {}, [el("td", {}, [p.name]), el("td", {}, [p["in"]]), el("td", {}, [p.required ? "必填" : "可选"]),
                               el("td", {}, [p.description || ""])]);
        });
        if (params.length) {
          box.appendChild(el("table", {}, [el("tr", {}, [el("th", {}, ["参数"]), el("th", {}, ["位置"]), el("th", {}, ["必填"]),
                                                        el("th", {}, ["说明"])])].concat(params)));
        }
        if (op.requestBody) {
          Object.keys(op.requestBody.content).forEach(function (type) {
            var schema = resolve(spec, op.requestBody.content[type].schema);
            box.appendChild(el("p", {}, ["请求体 (" + type + ")："]));
            box.appendChild(el("pre", {}, [JSON.stringify(schema, null, 2)]));
          });
        }
        box.appendChild(el("p", {}, ["应答：" + Object.keys(op.responses).join("、")]));
        ops.appendChild(box);
      });
    });
    var schemas = el("section", {"id": "schemas"}, [el("h2", {}, ["数据结构"])]);
    Object.keys(spec.components.schemas).forEach(function (name) {
      schemas.appendChild(el("h3", {"id": "schema-" + name}, [name]));
      schemas.appendChild(el("pre", {}, [JSON.stringify(spec.components.schemas[name], null, 2)]));
    });
    ops.parentNode.appendChild(schemas);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var main = document.getElementById("api-docs");
    fetch(main.getAttribute("data-spec"), {credentials: "omit"})
      .then(function (r) { return r.json(); })
      .then(show)
      .catch(function () { document.getElementById("operations").textContent = "接口说明加载失败，请直接查看 OpenAPI 文档。"; });
  });
}());
