{{/*
Environment of one service (Section__Key form of the services' configuration keys).
Non-secret settings only: credentials come from the Secret through envFrom.
*/}}
{{- define "axentra.env" -}}
{{- $root := .root -}}
{{- $app := .app -}}
{{- $svc := index $root.Values.services $app -}}
- name: ASPNETCORE_HTTP_PORTS
  value: "8080"
- name: OTEL_SERVICE_NAME
  value: {{ $app | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "service.namespace=axentra,deployment.environment=%s" $root.Values.global.environment | quote }}
{{- if $root.Values.otel.exporterEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $root.Values.otel.exporterEndpoint | quote }}
{{- end }}
- name: AWS_REGION
  value: {{ $root.Values.aws.region | quote }}
- name: Dapr__StateStore
  value: {{ $root.Values.names.components.stateStore | quote }}
- name: Dapr__PubSub
  value: {{ $root.Values.names.components.pubSub | quote }}
- name: Dapr__ProgrammaticSubscriptions
  value: {{ $root.Values.dapr.programmaticSubscriptions | quote }}
{{- with $root.Values.dapr.appTokenSecret }}
{{- /* The token the sidecar sends (dapr.io/app-token-secret), for the app to check; required, so a missing one stops the pod. */}}
- name: APP_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ . | quote }}
      key: token
- name: Dapr__RequireAppApiToken
  value: "true"
{{- end }}
- name: Dapr__Buckets__RawAudit__Binding
  value: {{ $root.Values.names.components.rawAuditBinding | quote }}
- name: Dapr__Buckets__RawAudit__Type
  value: bindings.aws.s3
- name: Dapr__Buckets__Processed__Binding
  value: {{ $root.Values.names.components.processedBinding | quote }}
- name: Dapr__Buckets__Processed__Type
  value: bindings.aws.s3
- name: Buckets__RawAudit
  value: {{ $root.Values.buckets.rawAudit | quote }}
- name: Buckets__Processed
  value: {{ $root.Values.buckets.processed | quote }}
{{- if eq $app "intake" }}
- name: Intake__Auth__ApiKeyHeader
  value: {{ $svc.config.apiKeyHeader | quote }}
- name: Intake__MaxBodyBytes
  value: {{ $svc.config.maxBodyBytes | quote }}
- name: Intake__DedupeWindow
  value: {{ $svc.config.dedupeWindow | quote }}
- name: Intake__RateLimit__PermitsPerSecond
  value: {{ $svc.config.rateLimit.permitsPerSecond | quote }}
- name: Intake__RateLimit__Burst
  value: {{ $svc.config.rateLimit.burst | quote }}
{{- range $eventType, $topic := $root.Values.routing.targets }}
- name: {{ printf "Routing__Targets__%s" $eventType }}
  value: {{ $topic | quote }}
{{- end }}
{{- end }}
{{- if eq $app "catalog" }}
- name: Catalog__Validation__StoresTable
  value: {{ $root.Values.tables.stores | quote }}
- name: Catalog__Validation__ProductsTable
  value: {{ $root.Values.tables.products | quote }}
{{- end }}
{{- with $svc.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
