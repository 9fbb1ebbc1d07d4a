#include "util/yaml_json.h"

#include <cctype>
#include <cstring>
#include <regex>

namespace zkpilot {
namespace {

const std::regex& IntRe() {
  static const std::regex re("[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+");
  return re;
}
const std::regex& FloatRe() {
  static const std::regex re(
      "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)");
  return re;
}

// True when a plain scalar with this text would not read back as the same
// string under YAML 1.1 or 1.2 (Kubernetes tools still speak 1.1).
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  // Fast path: only strings starting like a number, a boolean or null word
  // can be mistaken for another type.
  const char c = s[0];
  if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.' || c == '~' ||
        std::strchr("yYnNtTfFoO", c) != nullptr) ||
      s.size() > 64)
    return false;
  static const std::regex special(
      "y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|"
      "null|Null|NULL|~|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\\.[0-9_]*)?|[-+]?[0-9_]+|0b[01_]+");
  return std::regex_match(s, special) || std::regex_match(s, IntRe()) ||
         std::regex_match(s, FloatRe());
}

bool LiteralRoundTrips(const std::string& s) {
  if (s.size() < 2 || s.back() != '\n' || s[s.size() - 2] == '\n') return false;
  if (s.front() == ' ' || s.front() == '\n') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\t' || c == '\r' || (c < 0x20 && c != '\n')) return false;
    if (c == '\n' && i > 0 && s[i - 1] == ' ') return false;  // trailing space
  }
  return true;
}

void Emit(YAML::Emitter& out, const OrderedJson& v) {
  switch (v.type()) {
    case OrderedJson::value_t::object:
      if (v.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      out << YAML::BeginMap;
      for (auto it = v.begin(); it != v.end(); ++it) {
        out << YAML::Key;
        if (NeedsQuotes(it.key())) out << YAML::DoubleQuoted;
        out << it.key() << YAML::Value;
        Emit(out, it.value());
      }
      out << YAML::EndMap;
      return;
    case OrderedJson::value_t::array:
      if (v.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      out << YAML::BeginSeq;
      for (const auto& e : v) Emit(out, e);
      out << YAML::EndSeq;
      return;
    case OrderedJson::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (s.find('\n') != std::string::npos) {
        if (LiteralRoundTrips(s)) {
          out << YAML::Literal << s;
        } else {
          out << YAML::DoubleQuoted << s;
        }
      } else if (NeedsQuotes(s)) {
        out << YAML::DoubleQuoted << s;
      } else {
        out << s;
      }
      return;
    }
    case OrderedJson::value_t::boolean:
      out << (v.get<bool>() ? "true" : "false");
      return;
    case OrderedJson::value_t::number_integer:
      out << v.get<int64_t>();
      return;
    case OrderedJson::value_t::number_unsigned:
      out << v.get<uint64_t>();
      return;
    case OrderedJson::value_t::number_float:
      out << v.dump();
      return;
    default:
      out << YAML::Null;
  }
}

}  // namespace

nlohmann::json TypePlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  const char c = s[0];
  if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) return s;
  if (std::regex_match(s, IntRe())) {
    try {
      if (s.rfind("0x", 0) == 0) return std::stoll(s.substr(2), nullptr, 16);
      if (s.rfind("0o", 0) == 0) return std::stoll(s.substr(2), nullptr, 8);
      return std::stoll(s);
    } catch (...) {
      return s;  // out of range: keep the text
    }
  }
  if (std::regex_match(s, FloatRe())) {
    try {
      return std::stod(s);
    } catch (...) {
      return s;
    }
  }
  return s;
}

OrderedJson YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      OrderedJson obj = OrderedJson::object();
      for (const auto& kv : node) obj[kv.first.Scalar()] = YamlToJson(kv.second);
      return obj;
    }
    case YAML::NodeType::Sequence: {
      OrderedJson arr = OrderedJson::array();
      for (const auto& e : node) arr.push_back(YamlToJson(e));
      return arr;
    }
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return node.Scalar();
      return OrderedJson(TypePlainScalar(node.Scalar()));
    default:
      return nullptr;
  }
}

Result<YAML::Node> ParseYaml(const std::string& text, const std::string& source) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidInput(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
}

std::string EmitYaml(const OrderedJson& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  Emit(out, value);
  std::string s = out.c_str();
  s += "\n";
  return s;
}

}  // namespace zkpilot
