{{/* Chart name, or nameOverride. */}}
{{- define "sapp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects: fullnameOverride, the release name when it contains the chart name,
or <release>-<chart>; at most 63 characters. */}}
{{- define "sapp.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A derived name (<fullname>-<suffix>) that stays within 63 characters. */}}
{{- define "sapp.suffixed" -}}
{{- $full := include "sapp.fullname" .root }}
{{- printf "%s-%s" ($full | trunc (int (sub 62 (len .suffix))) | trimSuffix "-") .suffix }}
{{- end }}

{{- define "sapp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object of the release. */}}
{{- define "sapp.labels" -}}
helm.sh/chart: {{ include "sapp.chart" . }}
{{ include "sapp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: scalable-app-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the operator pods; never change them in an upgrade (Deployment selectors are immutable). */}}
{{- define "sapp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sapp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sapp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sapp.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sapp.leaseName" -}}
{{- default (include "sapp.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/*
The watched namespaces as one comma-separated string ("" for every namespace). watchNamespace is a list
([shop, blog]), or a string: one name (the form before lists were accepted) or several separated by commas.
Blanks around names and empty entries are dropped, duplicates removed, order kept.
*/}}
{{- define "sapp.watchNamespaces" -}}
{{- $value := .Values.watchNamespace | default "" }}
{{- $names := list }}
{{- $entries := $value }}
{{- if kindIs "string" $value }}
{{- $entries = splitList "," $value }}
{{- end }}
{{- range $entries }}
{{- $name := toString . | trim }}
{{- if and $name (not (has $name $names)) }}
{{- $names = append $names $name }}
{{- end }}
{{- end }}
{{- join "," $names }}
{{- end }}

{{/* repository:tag, or repository@digest; the tag defaults to the chart's appVersion. */}}
{{- define "sapp.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The operator's permissions on ScalableApps and the objects it owns, in each watched namespace (a Role there) or
in every namespace (a ClusterRole). Exact groups, resources and verbs; no wildcards. Why each rule exists:
*/}}
{{- define "sapp.operatorRules" -}}
# Watch ScalableApps (informer: list + watch); the operator never writes their spec.
- apiGroups: ["scalable.dev"]
  resources: ["scalableapps"]
  verbs: ["list", "watch"]
# Write status (server-side apply on the status subresource).
- apiGroups: ["scalable.dev"]
  resources: ["scalableapps/status"]
  verbs: ["patch"]
# Owned objects carry an owner reference with blockOwnerDeletion: clusters with the
# OwnerReferencesPermissionEnforcement admission plugin require update on the owner's finalizers.
- apiGroups: ["scalable.dev"]
  resources: ["scalableapps/finalizers"]
  verbs: ["update"]
# Owned kinds: watched by the managed-by label, server-side applied, pruned when no longer desired. An object
# missing from the watch cache is read directly before it is created (it may exist without the label, and is
# then not taken over), as are an app's credentials before any password is generated. Server-side apply is a
# PATCH; when the object does not exist yet, the API server also requires create.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["configmaps", "services"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies", "ingresses"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# HTTPRoutes for exposure.type Gateway (watched only when the Gateway API CRDs are installed).
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# Database pods (selected by the managed-by and component labels): the replication monitor reads their
# addresses and readiness, sets their replication-role label, and deletes a primary it must fence but cannot
# reach. No exec: it talks to the servers over the network with its own database account.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch", "patch", "delete"]
# The volume of an old primary that holds transactions the new primary lacks is deleted, so that the
# StatefulSet makes a fresh one and the server is copied again from the new primary.
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["delete"]
# Events about ScalableApps (Ready, Degraded, Scaled, InvalidSpec, Failover).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end }}

{{/* Leader election: create the Lease, then read and renew only that one. */}}
{{- define "sapp.leaseRules" -}}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["create"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  resourceNames: [{{ include "sapp.leaseName" . | quote }}]
  verbs: ["get", "update"]
{{- end }}

{{/* Fails the render on combinations of values the schema cannot express. */}}
{{- define "sapp.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicas > 1 requires leaderElection.enabled=true (otherwise every pod would reconcile at once)" }}
{{- end }}
{{- if eq .Values.image.tag "latest" }}
{{- fail "image.tag: `latest` is not allowed; pin a version (empty means the chart's appVersion)" }}
{{- end }}
{{- $le := .Values.leaderElection }}
{{- if not (and (gt (int $le.leaseDurationSeconds) (int $le.renewDeadlineSeconds)) (gt (int $le.renewDeadlineSeconds) (int $le.retryPeriodSeconds))) }}
{{- fail "leaderElection: leaseDurationSeconds must exceed renewDeadlineSeconds, which must exceed retryPeriodSeconds" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled (not .Values.metrics.service.enabled) }}
{{- fail "serviceMonitor.enabled=true requires metrics.service.enabled=true (the ServiceMonitor selects that Service)" }}
{{- end }}
{{- end }}
