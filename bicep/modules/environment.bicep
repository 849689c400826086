// Container Apps environment with a Consumption profile (control app, training job) and a serverless GPU profile
// (inference worker). A GPU profile can only be added when the environment is created, and only in regions with
// GPU capacity and quota (https://learn.microsoft.com/azure/container-apps/gpu-serverless-overview).
// (AVM: avm/res/app/managed-environment, workloadProfiles.)

param location string
param namePrefix string

@description('Name of the Log Analytics workspace (same resource group) that receives the app logs.')
param workspaceName string

@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
])
param gpuProfileType string

param tags object = {}

var gpuProfileName = 'gpu'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource environment 'Microsoft.App/managedEnvironments@2024-10-02-preview' = {
  name: '${namePrefix}-env'
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
      {
        name: gpuProfileName
        workloadProfileType: gpuProfileType
      }
    ]
  }
}

output id string = environment.id
output name string = environment.name
output consumptionProfileName string = 'Consumption'
output gpuProfileName string = gpuProfileName
