// One Azure Functions app (isolated worker, Durable Functions) hosted natively on Container Apps (kind functionapp),
// used for both roles: the control app (triggers, orchestrations, CPU activities; Consumption profile) and the GPU
// worker (the inference-requests queue; GPU profile). Both run the same image; the role switch is the
// AzureWebJobs.<function>.Disabled settings and Pipeline__Role (docs/azure.md).
// Pattern: Azure/azure-functions-on-container-apps samples/ACAKindfunctionapp + AVM avm/res/app/container-app.

param location string
param name string
param environmentId string

@description('Workload profile of the environment to run on (Consumption or the GPU profile).')
param workloadProfileName string

@description('Full image reference, e.g. myacr.azurecr.io/pipeline-functions-gpu:1.0.0.')
param image string

@description('Login server of the registry the image comes from.')
param registryServer string

param identityId string
param identityClientId string

param storageAccountName string

@description('Use the managed identity for AzureWebJobsStorage; otherwise a connection string secret.')
param useManagedIdentity bool = true

@secure()
param appInsightsConnectionString string

@allowed([
  'control'
  'gpu'
])
param role string

@description('Durable Functions task hub this app works in.')
param taskHubName string

@description('Task hub of the control app, where the GPU worker raises completion events.')
param controlTaskHubName string

@description('Functions this role does not run (AzureWebJobs.<name>.Disabled = true).')
param disabledFunctions array = []

param cpu string = '1.0'
param memory string = '2Gi'

@minValue(0)
param minReplicas int = 1
@minValue(1)
param maxReplicas int = 10

@description('Expose HTTP publicly (the control app\'s status API); the GPU worker stays internal.')
param externalIngress bool = false

@description('Explicit queue-length scale rule (empty: the platform derives KEDA rules from the Functions triggers).')
param scaleQueueName string = ''

@minValue(1)
param scaleQueueLength int = 4

param tags object = {}

var port = 8080

var storageEnv = useManagedIdentity ? [
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storageAccountName
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
] : [
  {
    name: 'AzureWebJobsStorage'
    secretRef: 'azurewebjobsstorage'
  }
]

var storageSecrets = useManagedIdentity ? [] : [
  {
    name: 'azurewebjobsstorage'
    value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
  }
]

var disabledEnv = [for f in disabledFunctions: {
  name: 'AzureWebJobs.${f}.Disabled'
  value: 'true'
}]

var baseEnv = [
  {
    name: 'FUNCTIONS_WORKER_RUNTIME'
    value: 'dotnet-isolated'
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    secretRef: 'appinsights'
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    name: 'Pipeline__Role'
    value: role
  }
  // Azure's triggers and durable engine replace the local listeners, engine and inference worker
  {
    name: 'Pipeline__Triggers__Enabled'
    value: 'false'
  }
  {
    name: 'Pipeline__Engine__Enabled'
    value: 'false'
  }
  {
    name: 'Pipeline__InferenceWorker__Enabled'
    value: 'false'
  }
  {
    name: 'PIPELINE_TASK_HUB'
    value: taskHubName
  }
  {
    name: 'PIPELINE_CONTROL_TASK_HUB'
    value: controlTaskHubName
  }
]

var queueRules = empty(scaleQueueName) ? [] : [
  {
    name: 'queue-length'
    azureQueue: {
      accountName: storageAccountName
      queueName: scaleQueueName
      queueLength: scaleQueueLength
      identity: identityId
    }
  }
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

// 2026-03-02-preview: the first API version with scale.allowScalingRuleOverride for kind functionapp
// (https://learn.microsoft.com/azure/container-apps/functions-scale-rule-override).
resource app 'Microsoft.App/containerApps@2026-03-02-preview' = {
  name: name
  location: location
  tags: union(tags, { 'pipeline-role': role })
  kind: 'functionapp'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    managedEnvironmentId: environmentId
    workloadProfileName: workloadProfileName
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: externalIngress
        targetPort: port
        allowInsecure: false
        transport: 'auto'
      }
      registries: [
        {
          server: registryServer
          identity: identityId
        }
      ]
      secrets: concat([
        {
          name: 'appinsights'
          value: appInsightsConnectionString
        }
      ], storageSecrets)
    }
    template: {
      containers: [
        {
          name: 'functions'
          image: image
          env: concat(baseEnv, storageEnv, disabledEnv)
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/api/healthz'
                port: port
              }
              initialDelaySeconds: 10
              periodSeconds: 30
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/api/healthz'
                port: port
              }
              initialDelaySeconds: 5
              periodSeconds: 10
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        // Documented for kind=functionapp from API 2026-03-02-preview (learn.microsoft.com/azure/container-apps/
        // functions-scale-rule-override) but absent from the type definitions of Bicep 0.49.2 (docs/azure.md)
        #disable-next-line BCP037
        allowScalingRuleOverride: !empty(scaleQueueName)
        rules: queueRules
      }
    }
  }
}

output id string = app.id
output name string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
