#include <set>

#include "actions/render_action.h"
#include "package/package_loader.h"
#include "render/mustache_context.h"

namespace zkpilot {

LintReport RunLint(const std::string& package_dir, const ValuesRequest& request) {
  LintReport report;
  auto pkg = LoadPackage(package_dir);
  if (!pkg.ok()) {
    report.errors.push_back(pkg.status().message());
    return report;
  }
  for (const auto& t : pkg->templates) {
    Status s = CheckMustacheSyntax(t.content, package_dir + "/" + t.path);
    if (!s.ok()) report.errors.push_back(s.message());
  }
  for (const auto& [name, body] : pkg->partials) {
    Status s = CheckMustacheSyntax(body, package_dir + "/templates/partials/" + name + ".mustache");
    if (!s.ok()) report.errors.push_back(s.message());
  }
  for (const auto& p : pkg->schema.params)
    if (p.description.empty()) report.warnings.push_back("parameter " + p.name + " has no description");

  auto input = ReadValuesInput(request);
  if (!input.ok()) {
    report.errors.push_back(input.status().message());
    return report;
  }
  auto values = ResolveValues(pkg->schema, *input);
  if (!values.ok()) {
    report.errors.push_back(values.status().message());
    return report;
  }
  if (values->Has("replicas") && values->Get("replicas").is_number_integer()) {
    int64_t n = values->Get("replicas").get<int64_t>();
    if (auto even = EvenReplicasWarning(n); !even.empty()) report.warnings.push_back(even);
    if (n == 1) report.warnings.push_back("replicas=1 has no fault tolerance");
    // Validation lets a single server's budget allow one disruption (or no
    // node could ever be drained); say what that means.
    const std::string pdb = "podDisruptionBudget.maxUnavailable";
    if (n == 1 && values->Has(pdb) && values->Get(pdb).is_number_integer() && values->Get(pdb).get<int64_t>() >= 1)
      report.warnings.push_back(pdb + "=" + values->Get(pdb).dump() +
                                " with replicas=1: draining the server's node stops the ensemble until the pod runs "
                                "again elsewhere (set it to 0 to block voluntary evictions instead)");
  }
  auto objects = RenderManifests(*pkg, *values, RenderOptions{});
  if (!objects.ok()) {
    report.errors.push_back(objects.status().message());
    return report;
  }
  report.objects_rendered = static_cast<int>(objects->size());

  // Render once more with every add-on switched on, so that their templates
  // are checked even when the given values leave them off.
  Values all_on = *values;
  bool any_off = false;
  for (const auto& addon : pkg->addons) {
    if (all_on.Get(addon.enabled_by) != true) {
      any_off = true;
      all_on.Set(addon.enabled_by, true, "lint");
    }
  }
  if (any_off && ValidateValues(pkg->schema, all_on).ok()) {
    auto with_addons = RenderManifests(*pkg, all_on, RenderOptions{});
    if (!with_addons.ok()) report.errors.push_back("with every add-on enabled: " + with_addons.status().message());
  }
  return report;
}

}  // namespace zkpilot
