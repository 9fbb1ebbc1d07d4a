#include "render/mustache_context.h"

#include <cstdio>
#include <regex>

namespace zkpilot {
namespace mst = kainjow::mustache;
namespace {

// kainjow reports "Unclosed section "x" at 123" with a byte offset: turn the
// offset into line and column so the message points into the file.
std::string LocateError(const std::string& text, const std::string& source, const std::string& message) {
  static const std::regex at_offset("(.*) at ([0-9]+)$");
  std::smatch m;
  if (!std::regex_match(message, m, at_offset)) return source + ": Mustache error: " + message;
  size_t offset = std::stoul(m[2].str());
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') ++line, col = 1;
    else ++col;
  }
  return source + ":" + std::to_string(line) + ":" + std::to_string(col) + ": Mustache syntax error: " + m[1].str();
}

}  // namespace

mst::data ToMustacheData(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object: {
      mst::data obj{mst::data::type::object};
      for (auto it = v.begin(); it != v.end(); ++it) obj.set(it.key(), ToMustacheData(it.value()));
      return obj;
    }
    case nlohmann::json::value_t::array: {
      mst::data list{mst::data::type::list};
      for (const auto& e : v) list.push_back(ToMustacheData(e));
      return list;
    }
    case nlohmann::json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (s.empty()) return mst::data{mst::data::type::bool_false};
      return mst::data{s};
    }
    case nlohmann::json::value_t::boolean:
      return v.get<bool>() ? mst::data{std::string("true")} : mst::data{mst::data::type::bool_false};
    case nlohmann::json::value_t::null:
      return mst::data{mst::data::type::bool_false};
    default:
      return mst::data{v.dump()};
  }
}

std::string EscapeForYamlDoubleQuoted(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out;
}

Status CheckMustacheSyntax(const std::string& text, const std::string& source) {
  mst::mustache tmpl{text};
  if (!tmpl.is_valid()) return Status::InvalidInput(LocateError(text, source, tmpl.error_message()));
  return Status::Ok();
}

void AddPartials(mst::data& context, const std::map<std::string, std::string>& partials) {
  for (const auto& [name, body] : partials) context.set(name, mst::partial([&body = body] { return body; }));
}

Result<std::string> RenderMustache(const std::string& text, const std::string& source, const mst::data& context) {
  mst::mustache tmpl{text};
  if (!tmpl.is_valid()) return Status::InvalidInput(LocateError(text, source, tmpl.error_message()));
  tmpl.set_custom_escape(EscapeForYamlDoubleQuoted);
  std::string out = tmpl.render(context);
  if (!tmpl.is_valid()) return Status::InvalidInput(LocateError(text, source, tmpl.error_message()));
  return out;
}

}  // namespace zkpilot
