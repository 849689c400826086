// Parameters of a dev environment:
//   az deployment group create -g rg-pipeline-dev -f bicep/main.bicep -p bicep/main.dev.bicepparam
using 'main.bicep'

param environmentName = 'dev'
param namePrefix = 'pipeline'
param containerRegistryName = 'pipelinedevacr'
param imageTag = '0.1.0'
param gpuProfileType = 'Consumption-GPU-NC8as-T4'
// identity-based storage (docs/azure.md, "Storage settings"); false gives a connection-string secret instead
param useManagedIdentity = true
param controlMinReplicas = 1
param controlMaxReplicas = 3
param gpuMinReplicas = 0
param gpuMaxReplicas = 1
param gpuQueueLength = 4
param trainingImage = ''
param tags = {
  owner: 'pipeline-dev'
}
