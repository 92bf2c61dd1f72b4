// The MQTT topic contract is shared by the lane (outputs/) and central command (central/), so it
// lives in the ground layer: core/mqtt-topics.ts. This module keeps the lane's imports short.
export * from '../../core/mqtt-topics.js';
