#include <set>

#include "values/values.h"

namespace zkpilot {
namespace {

std::string From(const Values& values, const std::string& name) {
  const std::string& o = values.Origin(name);
  return o == "default" ? name + " (default)" : name + " (from " + o + ")";
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
    if (!all_set) continue;
    std::string suffix = c.message.empty() ? "" : " (" + c.message + ")";
    switch (c.kind) {
      case Constraint::Kind::kDistinct: {
        for (size_t i = 0; i < c.params.size(); ++i)
          for (size_t j = i + 1; j < c.params.size(); ++j)
            if (values.Get(c.params[i]) == values.Get(c.params[j]))
              return Status::InvalidInput(From(values, c.params[i]) + " and " + From(values, c.params[j]) +
                                          " must differ, both are " + values.Get(c.params[i]).dump() + suffix);
        break;
      }
      case Constraint::Kind::kLessOrEqual: {
        const auto& a = values.Get(c.params[0]);
        const auto& b = values.Get(c.params[1]);
        if (a.is_number() && b.is_number() && a.get<double>() > b.get<double>())
          return Status::InvalidInput(From(values, c.params[0]) + " = " + a.dump() + " must not exceed " +
                                      From(values, c.params[1]) + " = " + b.dump() + suffix);
        break;
      }
      case Constraint::Kind::kImplies: {
        if (values.Get(c.params[0]) == true && values.Get(c.params[1]) != true)
          return Status::InvalidInput(From(values, c.params[0]) + " is true, so " + c.params[1] +
                                      " must be true as well" + suffix);
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace zkpilot
