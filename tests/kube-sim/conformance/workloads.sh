#!/usr/bin/env bash
# Workloads as kubectl drives them: a StatefulSet's pods become Ready (wait,
# rollout status), serve through the pod proxy, log, scale; a Deployment rolls
# out; a Job completes; deletion cascades (background, foreground, orphan);
# an eviction honours the PodDisruptionBudget.
source "$(dirname "$0")/../testlib.bash"
start_cluster

cat > "${STATE_DIR}/web.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: default}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: web
          image: kube-sim/host:latest
          command: ["/usr/bin/python3", "-u", "-m", "http.server", "8080"]
          workingDir: /srv
          ports: [{name: http, containerPort: 8080}]
          readinessProbe:
            tcpSocket: {port: http}
            periodSeconds: 1
          volumeMounts: [{name: page, mountPath: /srv}]
      volumes:
        - name: page
          configMap: {name: page}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: page, namespace: default}
data: {hello.txt: "hello from a pod\n"}
YAML
kubectl apply -f "${STATE_DIR}/web.yaml" >/dev/null
expect_match "rollout status of a StatefulSet" 'partitioned roll out complete|roll out complete' \
  "$(kubectl rollout status sts/web --timeout=120s)"
expect_match "wait for Ready" 'condition met' "$(kubectl wait --for=condition=Ready pod/web-0 pod/web-1 --timeout=60s)"
expect_eq "pods have IPs" 2 "$(kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | grep -c .)"
expect_eq "pod proxy reaches the container" "hello from a pod" \
  "$(kubectl get --raw /api/v1/namespaces/default/pods/web-0:8080/proxy/hello.txt)"
expect_match "logs of the container" 'GET /hello.txt' "$(kubectl logs web-0)"
expect_match "get pods shows Ready and Running" 'web-0 +1/1 +Running' "$(kubectl get pods)"
expect_eq "endpoints list the ready pods" 2 \
  "$(kubectl get endpoints web -o jsonpath='{range .subsets[*].addresses[*]}{.ip}{"\n"}{end}' | grep -c .)"
expect_match "a pod resolves another by its DNS name" 'hello from a pod' \
  "$("${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- /usr/bin/python3 -c \
    'import urllib.request;print(urllib.request.urlopen("http://web-1.web.default.svc.cluster.local:8080/hello.txt").read().decode())')"

kubectl scale sts web --replicas=3 >/dev/null
expect_match "scale up" 'roll out complete' "$(kubectl rollout status sts/web --timeout=120s)"
expect_eq "three pods" 3 "$(kubectl get pods -l app=web -o name | wc -l)"

# A PodDisruptionBudget that allows no disruption blocks an eviction.
kubectl create pdb web --selector=app=web --min-available=3 >/dev/null
wait_until 20 "the PDB counts the healthy pods" bash -c \
  "[[ \$(command kubectl --kubeconfig ${KUBECONFIG} get pdb web -o jsonpath='{.status.currentHealthy}') == 3 ]]"
cat > "${STATE_DIR}/evict.json" <<'JSON'
{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web-0","namespace":"default"}}
JSON
expect_fail "eviction blocked by the PDB" 'disruption budget' \
  kubectl create --raw /api/v1/namespaces/default/pods/web-0/eviction -f "${STATE_DIR}/evict.json"

# A Deployment rolls out and a change rolls it again.
kubectl create deployment app --image=kube-sim/host:latest --replicas=2 -- /usr/bin/sleep infinity >/dev/null
expect_match "deployment rollout" 'successfully rolled out' "$(kubectl rollout status deploy/app --timeout=120s)"
kubectl set env deploy/app MODE=two >/dev/null
expect_match "deployment rolls to a new template" 'successfully rolled out' "$(kubectl rollout status deploy/app --timeout=120s)"
expect_eq "two replica sets, the old one scaled to 0" "0 2" \
  "$(kubectl get rs -l app=app -o jsonpath='{range .items[*]}{.spec.replicas}{"\n"}{end}' | sort -n | tr '\n' ' ' | sed 's/ $//')"

# A Job runs to completion.
kubectl create job once --image=kube-sim/host:latest -- /usr/bin/bash -c 'echo done-once' >/dev/null
expect_match "job completes" 'condition met' "$(kubectl wait --for=condition=Complete job/once --timeout=60s)"
expect_match "job logs" 'done-once' "$(kubectl logs job/once)"

# Cascading deletion: orphan keeps the pods, background removes them.
kubectl delete deploy app --cascade=orphan >/dev/null
expect_eq "orphaned replica sets stay" 2 "$(kubectl get rs -l app=app -o name | wc -l)"
kubectl delete rs -l app=app --cascade=foreground --wait=true --timeout=60s >/dev/null
expect_eq "foreground deletion removed the pods first" 0 "$(kubectl get pods -l app=app -o name | wc -l)"
kubectl delete pdb web >/dev/null
kubectl delete sts web >/dev/null
wait_until 60 "background deletion removes a StatefulSet's pods" \
  bash -c "[[ -z \$(command kubectl --kubeconfig ${KUBECONFIG} get pods -l app=web -o name) ]]"
finish
