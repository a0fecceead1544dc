"""The CNN: ten digits plus one not-a-digit class, small enough to classify a frame's crops in ~1 ms.

Input contract, shared by training and inference: float32 in [0, 1], shape (N, 28, 28, 1), white ink on
black, fitted the MNIST way (`camrec.normalize`). Output: (N, 11) softmax; index 10 is "not a digit".
"""

from __future__ import annotations

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)
NUM_DIGITS = 10
NOT_A_DIGIT = 10  # class index of everything the detector cuts out that is not a digit
NUM_CLASSES = NUM_DIGITS + 1


def conv_block(x, filters: int, name: str):
    """Two 3x3 convolutions with batch norm, then 2x2 max pooling and dropout."""
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
    x = layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    return layers.Dropout(0.25, name=f"{name}_drop")(x)


def build_model() -> keras.Model:
    """Three BN conv blocks (32, 64, 128 filters) and a small dense head; about 0.22 M parameters."""
    inputs = keras.Input(shape=INPUT_SHAPE, name="crops")
    x = conv_block(inputs, 32, "block1")  # 28 -> 14
    x = conv_block(x, 64, "block2")  # 14 -> 7
    x = layers.Conv2D(128, 3, use_bias=False, name="block3_conv")(x)  # 7 -> 5
    x = layers.BatchNormalization(momentum=0.9, name="block3_bn")(x)
    x = layers.Activation("relu", name="block3_relu")(x)
    x = layers.MaxPooling2D(2, name="block3_pool")(x)  # 5 -> 2: keeps the dense head small
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.4, name="head_drop1")(x)
    x = layers.Dense(128, activation="relu", name="head_dense")(x)
    x = layers.Dropout(0.4, name="head_drop2")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="camrec_digits")
