// Stands in for `source-map` in Lambda bundles (see handlebarsWithoutSourceMap in
// lambda-bundle.mjs): without `SourceNode`, handlebars' compiler uses its built-in string builder.
module.exports = {};
