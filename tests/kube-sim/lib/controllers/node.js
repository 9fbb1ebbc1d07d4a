'use strict';
// The one node of the test cluster, and the scheduler's one decision: every
// pod that names no node goes to it.

const os = require('os');
const { Controller, splitKey, sameRes } = require('./base');

function nodeObject(name, nowISO) {
  const cpus = String(os.cpus().length || 1);
  const memory = `${Math.floor(os.totalmem() / 1024)}Ki`;
  const resources = { cpu: cpus, memory, pods: '110', 'ephemeral-storage': '100Gi' };
  const cond = (type, status, reason, message) => ({
    type, status, reason, message, lastHeartbeatTime: nowISO, lastTransitionTime: nowISO,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': os.arch() === 'x64' ? 'amd64' : os.arch(),
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': os.arch() === 'x64' ? 'amd64' : os.arch(),
        'node-role.kubernetes.io/control-plane': '',
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: {},
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: name }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: '', systemUUID: '', bootID: '',
        kernelVersion: os.release(),
        osImage: 'kube-sim',
        containerRuntimeVersion: 'kube-sim://1.0.0',
        kubeletVersion: 'v1.32.0',
        kubeProxyVersion: 'v1.32.0',
        operatingSystem: 'linux',
        architecture: os.arch() === 'x64' ? 'amd64' : os.arch(),
      },
    },
  };
}

class NodeController extends Controller {
  constructor(ctx) {
    super(ctx, 'node');
    this.nodes = this.res('nodes');
  }

  allKeys() { return [this.ctx.nodeName]; }

  onEvent({ type, res, object }) {
    if (sameRes(res, this.nodes) && type === 'DELETED' && object.metadata.name === this.ctx.nodeName) {
      this.queue.add(this.ctx.nodeName);
    }
  }

  sync(name) {
    if (this.store.tryGet(this.nodes, '', name)) return;
    const created = this.store.create(this.nodes, nodeObject(name, this.nowISO()));
    this.ctx.recorder.for('node-controller').normal(created, 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
  }
}

class SchedulerController extends Controller {
  constructor(ctx) {
    super(ctx, 'scheduler');
    this.pods = this.res('pods');
    this.events = ctx.recorder.for('default-scheduler');
  }

  allKeys() {
    return this.store.list(this.pods, null).items.filter((p) => this.wants(p))
      .map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  }

  wants(pod) {
    const name = pod.spec && pod.spec.schedulerName;
    return !pod.spec.nodeName && !pod.metadata.deletionTimestamp && (!name || name === 'default-scheduler');
  }

  onEvent({ type, res, object }) {
    if (sameRes(res, this.pods) && type !== 'DELETED' && this.wants(object)) {
      this.queue.add(`${object.metadata.namespace}/${object.metadata.name}`);
    }
  }

  sync(key) {
    const [ns, name] = splitKey(key);
    const pod = this.store.tryGet(this.pods, ns, name);
    if (!pod || !this.wants(pod)) return;
    pod.spec.nodeName = this.ctx.nodeName;
    const bound = this.store.update(this.pods, pod);
    const conditions = ((bound.status && bound.status.conditions) || []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: this.nowISO() });
    bound.status = { phase: 'Pending', ...(bound.status || {}), conditions };
    this.store.update(this.pods, bound, { subresource: 'status' });
    this.events.normal(bound, 'Scheduled', `Successfully assigned ${ns}/${name} to ${this.ctx.nodeName}`);
  }
}

module.exports = { NodeController, SchedulerController, nodeObject };
