"""Names the ontology gives to tasks, input modalities and sensor types.

The model card (YAML) and the CLI speak these names; the graph holds the matching
``tr:`` individuals and classes.

>>> TASK_IRIS["classification"] == TR.Classification
True
"""

from __future__ import annotations

from tinyreg.core.namespaces import TR

__all__ = ["MODALITIES", "MODALITY_IRIS", "SENSOR_TYPES", "TASKS", "TASK_IRIS"]

TASKS = (
    "classification",
    "object-detection",
    "feature-extraction",
    "anomaly-detection",
    "regression",
    "unsupervised",
    "other",
)
MODALITIES = ("audio", "image", "motion", "vibration", "environmental", "time-series", "other")
SENSOR_TYPES = (
    "Accelerometer",
    "Gyroscope",
    "Magnetometer",
    "IMU",
    "IMU9DoF",
    "Microphone",
    "PDMMicrophone",
    "I2SMicrophone",
    "AnalogMicrophone",
    "Camera",
    "Thermometer",
    "HumiditySensor",
    "Barometer",
    "GasSensor",
    "LightSensor",
    "ColorSensor",
    "ProximitySensor",
    "GestureSensor",
    "OtherSensor",
)

TASK_IRIS = {
    "classification": TR.Classification,
    "object-detection": TR.ObjectDetection,
    "feature-extraction": TR.FeatureExtraction,
    "anomaly-detection": TR.AnomalyDetection,
    "regression": TR.Regression,
    "unsupervised": TR.Unsupervised,
    "other": TR.OtherTask,
}
"""The ontology's task individual for each card task name."""
MODALITY_IRIS = {
    "audio": TR.Audio,
    "image": TR.Image,
    "motion": TR.Motion,
    "vibration": TR.Vibration,
    "environmental": TR.Environmental,
    "time-series": TR.TimeSeries,
    "other": TR.OtherModality,
}
