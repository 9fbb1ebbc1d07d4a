#include <algorithm>
#include <cctype>
#include <sstream>

#include "values/values.h"

namespace zkpilot {
namespace {

std::string From(const Values& values, const std::string& name) {
  const std::string& o = values.Origin(name);
  return o == "default" ? name + " (default)" : name + " (from " + o + ")";
}

// "resources.limits.memory (from --set) = 600Mi"
std::string Named(const Values& values, const std::string& name) {
  return From(values, name) + " = " + DisplayValue(values.Get(name));
}

bool Matches(const Values& values, const std::vector<std::pair<std::string, nlohmann::json>>& wanted) {
  for (const auto& [name, v] : wanted)
    if (!values.Has(name) || values.Get(name) != v) return false;
  return true;
}

// A value as a number: numbers as they are, strings read in the parameter's
// format. nullopt for "" (unset) or anything else.
std::optional<long double> Magnitude(const ParamSpec& spec, const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string() && !v.get<std::string>().empty()) return ParseFormatted(spec.format, v.get<std::string>());
  return std::nullopt;
}

// A bound written as a value of `spec` would be: "768m" for a JVM size
// (whole MiB, rounded down), the plain number otherwise.
std::string AsValueOf(const ParamSpec& spec, long double v) {
  if (spec.format == ValueFormat::kJvmSize) return std::to_string(static_cast<int64_t>(v / 0x1p20L)) + "m";
  std::ostringstream out;
  out.precision(6);
  out << static_cast<double>(v);
  return out.str();
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// One constraint; `suffix` is " (message)" or "".
Status CheckConstraint(const Schema& schema, const Constraint& c, const Values& values, const std::string& suffix) {
  switch (c.kind) {
    case Constraint::Kind::kDistinct: {
      for (size_t i = 0; i < c.params.size(); ++i)
        for (size_t j = i + 1; j < c.params.size(); ++j)
          if (values.Get(c.params[i]) == values.Get(c.params[j]))
            return Status::InvalidInput(From(values, c.params[i]) + " and " + From(values, c.params[j]) +
                                        " must differ, both are " + values.Get(c.params[i]).dump() + suffix);
      return Status::Ok();
    }
    case Constraint::Kind::kLessOrEqual:
    case Constraint::Kind::kLessThan: {
      const bool strict = c.kind == Constraint::Kind::kLessThan;
      const ParamSpec& sa = *schema.Find(c.params[0]);
      const ParamSpec& sb = *schema.Find(c.params[1]);
      auto a = Magnitude(sa, values.Get(c.params[0]));
      auto b = Magnitude(sb, values.Get(c.params[1]));
      if (!a || !b) return Status::Ok();  // one of them is unset
      const long double bound = *b * static_cast<long double>(c.factor);
      // Quantities are read in binary floating point: "500m" and "0.5" are equal.
      if (strict ? *a < bound * (1 - 1e-12L) : *a <= bound * (1 + 1e-12L)) return Status::Ok();
      std::string msg = Named(values, c.params[0]);
      if (c.factor == 1) {
        msg += (strict ? " must be less than " : " must not exceed ") + Named(values, c.params[1]);
      } else {
        std::ostringstream pct;
        pct << c.factor * 100;
        msg += std::string(strict ? " must be less than " : " must be at most ") + pct.str() + "% of " +
               Named(values, c.params[1]) + (strict ? ", i.e. less than " : ", i.e. at most ") + AsValueOf(sa, bound);
      }
      return Status::InvalidInput(msg + suffix);
    }
    case Constraint::Kind::kImplies: {
      if (values.Get(c.params[0]) == true && values.Get(c.params[1]) != true)
        return Status::InvalidInput(From(values, c.params[0]) + " is true, so " + c.params[1] +
                                    " must be true as well" + suffix);
      return Status::Ok();
    }
    case Constraint::Kind::kContains: {
      const auto& v = values.Get(c.params[0]);
      if (!v.is_string()) return Status::Ok();
      std::vector<std::string> list = SplitList(v.get<std::string>());
      std::string missing;
      for (const auto& item : c.items)
        if (std::find(list.begin(), list.end(), item) == list.end()) missing += (missing.empty() ? "" : ", ") + item;
      if (missing.empty()) return Status::Ok();
      std::string cond;
      for (const auto& [name, wanted] : c.when)
        cond += (cond.empty() ? " while " : " and ") + name + "=" + DisplayValue(wanted);
      return Status::InvalidInput(Named(values, c.params[0]) + " lacks " + missing + cond + suffix);
    }
    case Constraint::Kind::kForbid: {
      if (!Matches(values, c.values)) return Status::Ok();
      std::string combo;
      for (size_t i = 0; i < c.params.size(); ++i) {
        if (i > 0) combo += i + 1 == c.params.size() ? " and " : ", ";
        const auto& v = values.Get(c.params[i]);
        combo += From(values, c.params[i]) + " = " + (v.is_string() && v.get<std::string>().empty() ? "\"\"" : DisplayValue(v));
      }
      return Status::InvalidInput(combo + (c.params.size() > 1 ? " do not go together" : " is not allowed") + suffix);
    }
    case Constraint::Kind::kKeepsQuorum: {
      const auto& down = values.Get(c.params[0]);
      const auto& servers = values.Get(c.params[1]);
      if (!down.is_number_integer() || !servers.is_number_integer()) return Status::Ok();
      const int64_t n = servers.get<int64_t>(), d = down.get<int64_t>();
      const int64_t quorum = n / 2 + 1;
      const int64_t tolerated = n - quorum;
      // A single server has no quorum to keep through any outage: allowing
      // one disruption is what lets its node be drained at all.
      if (d <= tolerated || (n == 1 && d <= 1)) return Status::Ok();
      return Status::InvalidInput(
          Named(values, c.params[0]) + " lets voluntary disruptions (node drains) take down " + std::to_string(d) +
          " of " + Named(values, c.params[1]) + " servers, but a quorum needs " + std::to_string(quorum) +
          " of them running: at most " + std::to_string(tolerated) + " may be unavailable" + suffix);
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateValues(const Schema& schema, const Values& values) {
  for (const auto& p : schema.params) {
    if (!values.Has(p.name)) {
      if (p.required) return Status::InvalidInput(p.name + ": required parameter is not set (use --set " + p.name + "=... or a values file)");
      continue;
    }
    std::string err = CheckParamValue(p, values.Get(p.name));
    if (!err.empty()) return Status::InvalidInput(values.Origin(p.name) + ": " + p.name + ": " + err);
  }
  for (const auto& c : schema.constraints) {
    bool all_set = true;
    for (const auto& n : c.params) all_set = all_set && values.Has(n);
    if (!all_set || !Matches(values, c.when)) continue;
    std::string suffix = c.message.empty() ? "" : " (" + c.message + ")";
    ZK_RETURN_IF_ERROR(CheckConstraint(schema, c, values, suffix));
  }
  return Status::Ok();
}

Status ValidateNamespaceName(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 63 && std::isalnum(static_cast<unsigned char>(name.front())) &&
                  std::isalnum(static_cast<unsigned char>(name.back())) &&
                  std::all_of(name.begin(), name.end(), [](char ch) {
                    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
                  });
  if (ok) return Status::Ok();
  return Status::InvalidInput("namespace \"" + name +
                              "\": not a valid Kubernetes namespace name (an RFC 1123 label: at most 63 characters, "
                              "lower-case letters, digits and '-', starting and ending with a letter or digit)");
}

}  // namespace zkpilot
