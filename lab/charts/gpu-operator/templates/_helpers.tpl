{{/* aifabric lab test double of the gpu-operator chart's helpers */}}
{{- define "gpu-operator.fullname" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gpu-operator.labels" -}}
app.kubernetes.io/name: gpu-operator
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "gpu-operator.fullimage" -}}
{{- printf "%s/%s:%s" .Values.operator.repository .Values.operator.image (.Values.operator.version | default .Chart.AppVersion) -}}
{{- end -}}
