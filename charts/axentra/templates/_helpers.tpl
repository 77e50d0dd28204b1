{{/* The three services, in a fixed order, with their Dapr app ids (PlatformNames.AppIds). */}}
{{- define "axentra.appIds" -}}
intake audit catalog
{{- end -}}

{{- define "axentra.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "axentra.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "axentra.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "axentra.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "axentra.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels shared by every object. */}}
{{- define "axentra.labels" -}}
helm.sh/chart: {{ include "axentra.chart" . }}
app.kubernetes.io/name: {{ include "axentra.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: axentra
{{- end -}}

{{/* Per-service names and labels; call with (dict "root" $ "app" "intake"). */}}
{{- define "axentra.serviceName" -}}
{{- printf "%s-%s" (include "axentra.fullname" .root) .app | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "axentra.selectorLabels" -}}
app.kubernetes.io/name: {{ include "axentra.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .app }}
{{- end -}}

{{- define "axentra.serviceLabels" -}}
{{ include "axentra.labels" .root }}
app.kubernetes.io/component: {{ .app }}
{{- end -}}

{{- define "axentra.image" -}}
{{- $svc := index .root.Values.services .app -}}
{{- $tag := $svc.image.tag | default .root.Values.global.imageTag | default .root.Chart.AppVersion -}}
{{- if .root.Values.global.imageRegistry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.global.imageRegistry) $svc.image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $svc.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Dead-letter topic of one subscriber (PlatformNames.Topics.DeadLetterOf). */}}
{{- define "axentra.deadLetterTopic" -}}
{{- printf "%s-%s-deadletter" .root.Values.names.topics.webhookEvents .app -}}
{{- end -}}

{{/* Subscription route (DaprSubscriberEndpoints.RouteOf). */}}
{{- define "axentra.subscriptionRoute" -}}
{{- printf "/dapr/subscriptions/%s/%s" .topic .app -}}
{{- end -}}
