// A small in-memory package for unit tests of the pure stages.
#pragma once

#include "package/package_loader.h"

namespace zkpilot::testing {

inline PackageFiles MinimalPackageFiles() {
  PackageFiles f;
  f["package.yaml"] = R"(apiVersion: zkpilot.io/v1
kind: Package
name: mini
version: 1.0.0
versions:
  - version: "3.8.0"
    image: zookeeper:3.8.0
    distribution: debian-3.8.0
  - version: "3.9.3"
    image: zookeeper:3.9.3
upgradePaths:
  - from: "3.8.*"
    to: ["3.9.*"]
files:
  - name: zooCfg
    path: config/zoo.cfg.mustache
    template: true
    configHash: true
addons:
  - name: extra
    enabledBy: extra.enabled
    templates: addons/extra/templates
)";
  f["parameters.yaml"] = R"(parameters:
  - name: replicas
    type: integer
    default: 3
    min: 1
    max: 9
    change: reconfig
    description: servers
  - name: version
    type: string
    default: "3.8.0"
    enum: ["3.8.0", "3.9.3"]
    description: version
  - name: clientPort
    type: integer
    default: 2181
    min: 1
    max: 65535
    description: client port
  - name: quorumPort
    type: integer
    default: 2888
    min: 1
    max: 65535
    description: quorum port
  - name: controller
    type: string
    default: statefulset
    enum: [statefulset, deployment]
    change: immutable
    description: controller
  - name: tickTime
    type: integer
    default: 2000
    description: tick
  - name: dataDir
    type: string
    default: /data
    pattern: "/.*"
    description: data
  - name: ratio
    type: number
    default: 0.5
    description: a number
  - name: labels
    type: object
    default: {}
    description: labels
  - name: extra.enabled
    type: boolean
    default: false
    change: dynamic
    description: extra add-on
  - name: extra.name
    type: string
    default: ""
    description: optional text
constraints:
  - distinct: [clientPort, quorumPort]
)";
  f["config/zoo.cfg.mustache"] =
      "tickTime={{values.tickTime}}\ndataDir={{values.dataDir}}\n"
      "{{#nodes}}server.{{id}}={{host}}:{{quorumPort}}:3888;{{clientPort}}\n{{/nodes}}"
      "selfDataDir={{self.dataDir}}\nplatform={{platform.name}}\n";
  f["templates/config.yaml"] = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: "{{cluster.name}}-config"
data:
  zoo.cfg: {{{files.zooCfg}}}
  hash: "{{configHash}}"
)";
  f["templates/node/server.yaml"] = R"({{#enum.controller.statefulset}}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: "{{node.name}}"
  annotations:
    config-hash: "{{configHash}}"
spec:
  replicas: 1
  template:
    metadata:
      labels: {{{json.labels}}}
    spec:
      containers:
        - name: zookeeper
          image: "{{image}}"
          env:
            - name: MYID
              value: "{{node.id}}"
{{/enum.controller.statefulset}}
{{#enum.controller.deployment}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: "{{node.name}}"
{{/enum.controller.deployment}}
)";
  f["addons/extra/templates/extra.yaml"] = R"(apiVersion: v1
kind: Service
metadata:
  name: "{{cluster.name}}-extra"
  annotations:
    note: "{{values.extra.name}}"
    present: "{{#values.extra.name}}yes{{/values.extra.name}}{{^values.extra.name}}no{{/values.extra.name}}"
)";
  return f;
}

}  // namespace zkpilot::testing
