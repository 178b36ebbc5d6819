{{- define "papishares.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "papishares.fullname" -}}
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

{{- define "papishares.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "papishares.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "papishares.selectorLabels" -}}
app.kubernetes.io/name: {{ include "papishares.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The Secret the containers read: the user's own, or the one this chart makes. */}}
{{- define "papishares.secretName" -}}
{{- default (include "papishares.fullname" .) .Values.existingSecret }}
{{- end }}

{{- define "papishares.claimName" -}}
{{- default (include "papishares.fullname" .) .Values.persistence.existingClaim }}
{{- end }}

{{- define "papishares.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Refuse values that would break the one-seller guarantee, with a message saying why. */}}
{{- define "papishares.validate" -}}
{{- if ne (int .Values.replicaCount) 1 }}
{{- fail (printf "replicaCount must be 1 (got %v): the worker must be the only process selling and the SQLite file sits on one ReadWriteOnce volume" .Values.replicaCount) }}
{{- end }}
{{- if and (not .Values.persistence.enabled) .Values.persistence.existingClaim }}
{{- fail "persistence.existingClaim is set but persistence.enabled is false: enable persistence to use the claim" }}
{{- end }}
{{- end }}

{{/* Settings from the ConfigMap, credentials from the Secret: never a secret as a plain env value. */}}
{{- define "papishares.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "papishares.fullname" . }}
  - secretRef:
      name: {{ include "papishares.secretName" . }}
{{- end }}

{{/* Both containers see the same claim at /data; /tmp and the home are writable scratch. */}}
{{- define "papishares.volumeMounts" -}}
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
- name: home
  mountPath: /home/papishares
{{- if .Values.watchlist }}
- name: watchlist
  mountPath: /etc/papishares/watchlist.txt
  subPath: watchlist.txt
  readOnly: true
{{- end }}
{{- end }}
