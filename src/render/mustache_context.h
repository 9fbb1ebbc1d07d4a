// Mustache plumbing: JSON values -> kainjow data, escaping, syntax errors.
//
// Conversion rules (see docs/package-format.md, "Templates"):
//   strings -> strings, except "" which is falsy in sections and prints nothing;
//   numbers -> their text; true -> "true" (truthy); false and null -> falsy,
//   print nothing (use {{json.x}} for the exact text); objects and lists as is.
#pragma once

#include <map>
#include <string>

#include <kainjow/mustache.hpp>
#include <nlohmann/json.hpp>

#include "util/status.h"

namespace zkpilot {

kainjow::mustache::data ToMustacheData(const nlohmann::json& value);

// Escapes text for the inside of a double-quoted YAML string.
std::string EscapeForYamlDoubleQuoted(const std::string& text);

// Makes `partials` (name -> template text) available to {{> name}}.
// REQUIRES: `partials` outlives `context`; each passed CheckMustacheSyntax.
void AddPartials(kainjow::mustache::data& context, const std::map<std::string, std::string>& partials);

// Renders `text` (named `source` in errors) with `context`.
// Syntax errors are InvalidInput naming source, line and column.
Result<std::string> RenderMustache(const std::string& text, const std::string& source,
                                   const kainjow::mustache::data& context);

// Only checks the syntax of a template (used by lint for every template,
// including those of disabled add-ons).
Status CheckMustacheSyntax(const std::string& text, const std::string& source);

}  // namespace zkpilot
