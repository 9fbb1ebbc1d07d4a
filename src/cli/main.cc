// zkpilot's command line: parses flags, calls the library, maps errors to
// exit codes (0 success, 2 invalid input or usage, 1 any other failure).
#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "actions/render_action.h"

namespace {

using zkpilot::OutputFormat;
using zkpilot::Status;

constexpr int kExitUsage = 2;

int Fail(const Status& status) {
  spdlog::error("{}", status.message());
  return zkpilot::ExitCodeFor(status);
}

void AddValuesFlags(CLI::App* cmd, zkpilot::ValuesRequest& values) {
  cmd->add_option("--set", values.sets,
                  "Set a parameter: key=value, nested keys with dots (repeatable; later wins)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  cmd->add_option("-f,--values", values.files, "YAML values file (repeatable; later files win)")
      ->type_name("FILE")
      ->allow_extra_args(false);
}

const std::map<std::string, OutputFormat> kFormats = {{"yaml", OutputFormat::kYaml},
                                                      {"json", OutputFormat::kJson}};

}  // namespace

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_st("zkpilot");
  logger->set_pattern("zkpilot: %^%l%$: %v");
  spdlog::set_default_logger(logger);

  CLI::App app{
      "zkpilot deploys and operates Apache ZooKeeper ensembles.\n"
      "Packages describe versions, parameters, Kubernetes templates, hooks and add-ons;\n"
      "see docs/package-format.md.",
      "zkpilot"};
  app.set_version_flag("--version", std::string("zkpilot ") + ZKPILOT_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log more detail");
  app.footer("Exit codes: 0 success, 2 invalid input (package, values, usage), 1 any other failure.");

  // render
  zkpilot::RenderRequest render;
  std::string render_format = "yaml";
  auto* render_cmd = app.add_subcommand(
      "render", "Render the package's Kubernetes objects (no side effects).\n"
                "Prints multi-document YAML, or writes one file per object with --output-dir.");
  render_cmd->add_option("package", render.package_dir, "Package directory")->required()->type_name("PACKAGE");
  AddValuesFlags(render_cmd, render.values);
  render_cmd->add_option("--name", render.options.cluster_name, "Cluster (release) name; object names derive from it")
      ->capture_default_str();
  render_cmd->add_option("-n,--namespace", render.options.namespace_name, "Kubernetes namespace")
      ->capture_default_str();
  render_cmd->add_option("--format,-o", render_format, "Output format")
      ->check(CLI::IsMember({"yaml", "json"}))
      ->capture_default_str();
  render_cmd->add_option("--output-dir", render.output_dir,
                         "Write one file per object into DIR (must not exist or be empty); nothing is written on error")
      ->type_name("DIR");

  // lint
  std::string lint_package;
  zkpilot::ValuesRequest lint_values;
  auto* lint_cmd = app.add_subcommand(
      "lint", "Check a package and values: schema, templates (including disabled add-ons), rendering.");
  lint_cmd->add_option("package", lint_package, "Package directory")->required()->type_name("PACKAGE");
  AddValuesFlags(lint_cmd, lint_values);

  // params
  std::string params_package;
  std::string params_format = "table";
  auto* params_cmd = app.add_subcommand("params", "List the package's parameters: type, default, change, description.");
  params_cmd->add_option("package", params_package, "Package directory")->required()->type_name("PACKAGE");
  params_cmd->add_option("--format,-o", params_format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (verbose) spdlog::set_level(spdlog::level::debug);

  if (render_cmd->parsed()) {
    render.format = kFormats.at(render_format);
    auto text = zkpilot::RunRender(render);
    if (!text.ok()) return Fail(text.status().WithContext("render"));
    std::fwrite(text->data(), 1, text->size(), stdout);
    if (!render.output_dir.empty()) spdlog::info("wrote objects to {}", render.output_dir);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  if (lint_cmd->parsed()) {
    auto report = zkpilot::RunLint(lint_package, lint_values);
    for (const auto& e : report.errors) fmt::print("ERROR    {}\n", e);
    for (const auto& w : report.warnings) fmt::print("WARNING  {}\n", w);
    fmt::print("{}: {} error(s), {} warning(s), {} object(s) rendered\n", lint_package, report.errors.size(),
               report.warnings.size(), report.objects_rendered);
    return report.errors.empty() ? 0 : kExitUsage;
  }
  if (params_cmd->parsed()) {
    auto text = zkpilot::RunParams(params_package, params_format == "json" ? OutputFormat::kJson : OutputFormat::kYaml);
    if (!text.ok()) return Fail(text.status().WithContext("params"));
    fmt::print("{}", *text);
    return 0;
  }
  return kExitUsage;
}
