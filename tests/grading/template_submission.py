"""A correct FIT3181 Part 3 submission written the 2022 template's way (written for these tests, not copied from
anyone): cv2 loading, float64 data in [-1, 1], a Keras-2 Sequential with input_shape= and a softmax, the
student's own compile/fit, a functional YourModel with Add, and tutorial-style attack functions."""
import os

import cv2
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split
from tensorflow import keras
from tensorflow.keras import layers, models


class SimplePreprocessor:
    def __init__(self, width, height, inter=cv2.INTER_AREA):
        self.width, self.height, self.inter = width, height, inter

    def preprocess(self, image):
        return cv2.resize(image, (self.width, self.height), interpolation=self.inter)


class AnimalsDatasetManager:
    def __init__(self, preprocessors=None, random_state=6789):
        self.preprocessors = preprocessors or []
        self.random = np.random.RandomState(random_state)

    def load(self, label_folder_dict, max_num_images=500, verbose=-1):
        data, labels = [], []
        for label, folder in label_folder_dict.items():
            for i, name in enumerate(sorted(os.listdir(folder))[:max_num_images]):
                image = cv2.imread(os.path.join(folder, name))
                if image is None:
                    continue
                image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
                for p in self.preprocessors:
                    image = p.preprocess(image)
                data.append(image)
                labels.append(label)
                if verbose > 0 and (i + 1) % verbose == 0:
                    print(f"Processed {i + 1}")
        self.data, self.labels = np.array(data), np.array(labels)

    def process_data_label(self):
        self.data = self.data / 255.0 * 2 - 1
        self.classes = np.unique(self.labels)
        self.labels = np.searchsorted(self.classes, self.labels)

    def train_valid_test_split(self, train_size=0.8, test_size=0.1, rand_seed=33):
        X_train, X_rest, y_train, y_rest = train_test_split(self.data, self.labels, train_size=train_size,
                                                            stratify=self.labels, random_state=rand_seed)
        X_valid, X_test, y_valid, y_test = train_test_split(X_rest, y_rest, test_size=0.5, stratify=y_rest,
                                                            random_state=rand_seed)
        self.X_train, self.y_train = X_train, y_train
        self.X_valid, self.y_valid = X_valid, y_valid
        self.X_test, self.y_test = X_test, y_test


class DefaultModel:
    def __init__(self, name='network1', width=32, height=32, depth=3, num_blocks=2, feature_maps=32, num_classes=4,
                 drop_rate=0.2, batch_norm=None, is_augmentation=False, activation_func='relu', use_skip=True,
                 optimizer='adam', batch_size=10, num_epochs=20, learning_rate=0.0001, verbose=True):
        self.name, self.width, self.height, self.depth = name, width, height, depth
        self.num_blocks, self.num_classes, self.drop_rate = num_blocks, num_classes, drop_rate
        self.feature_maps = [feature_maps * (1 << i) for i in range(num_blocks)]
        self.batch_norm, self.is_augmentation = batch_norm, is_augmentation
        self.activation_func, self.use_skip = activation_func, use_skip
        self.batch_size, self.num_epochs, self.learning_rate = batch_size, num_epochs, learning_rate
        self.verbose = verbose
        if optimizer == 'adam':
            self.optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
        else:
            self.optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
        self.model = models.Sequential()

    def build_cnn(self):
        self.model.add(layers.Conv2D(32, (3, 3), padding='same', activation='relu',
                                     input_shape=(self.height, self.width, self.depth)))
        self.model.add(layers.Conv2D(32, (3, 3), padding='same', activation='relu'))
        self.model.add(layers.AveragePooling2D(pool_size=(2, 2)))
        self.model.add(layers.Conv2D(64, (3, 3), padding='same', activation='relu'))
        self.model.add(layers.Conv2D(64, (3, 3), padding='same', activation='relu'))
        self.model.add(layers.AveragePooling2D(pool_size=(2, 2)))
        self.model.add(layers.Flatten())
        self.model.add(layers.Dense(self.num_classes, activation='softmax'))
        self.model.compile(optimizer=self.optimizer, loss='sparse_categorical_crossentropy', metrics=['accuracy'])

    def summary(self):
        self.model.summary()

    def fit(self, data_manager, batch_size=None, num_epochs=None):
        batch_size = self.batch_size if batch_size is None else batch_size
        num_epochs = self.num_epochs if num_epochs is None else num_epochs
        self.history = self.model.fit(data_manager.X_train, data_manager.y_train,
                                      validation_data=(data_manager.X_valid, data_manager.y_valid),
                                      epochs=num_epochs, batch_size=batch_size, verbose=self.verbose)

    def compute_accuracy(self, X_test, y_test, batch_size=None):
        return self.model.evaluate(X_test, y_test, batch_size=batch_size or self.batch_size, verbose=0)[1]

    def plot_progress(self):
        history = self.history.history
        plt.plot(history['loss'], label='train loss')
        plt.plot(history['val_loss'], label='valid loss')
        plt.legend()


class YourModel(DefaultModel):
    def __init__(self, name='network1', width=32, height=32, depth=3, num_blocks=2, feature_maps=32, num_classes=4,
                 drop_rate=0.2, batch_norm=None, is_augmentation=False, activation_func='relu', use_skip=True,
                 optimizer='adam', batch_size=10, num_epochs=20, learning_rate=0.0001, verbose=True):
        super(YourModel, self).__init__(name, width, height, depth, num_blocks, feature_maps, num_classes, drop_rate,
                                        batch_norm, is_augmentation, activation_func, use_skip, optimizer,
                                        batch_size, num_epochs, learning_rate, verbose)

    def build_cnn(self):
        inputs = layers.Input(shape=(self.height, self.width, self.depth))
        x = inputs
        for i in range(self.num_blocks):
            shortcut = layers.Conv2D(self.feature_maps[i], (1, 1), padding='same')(x)
            x = layers.Conv2D(self.feature_maps[i], (3, 3), padding='same')(x)
            if self.batch_norm:
                x = layers.BatchNormalization()(x)
            x = layers.Activation(self.activation_func)(x)
            x = layers.Conv2D(self.feature_maps[i], (3, 3), padding='same')(x)
            if self.batch_norm:
                x = layers.BatchNormalization()(x)
            if self.use_skip:
                x = layers.Add()([x, shortcut])
            x = layers.Activation(self.activation_func)(x)
            x = layers.AveragePooling2D(pool_size=(2, 2), strides=(2, 2), padding='same')(x)
            if self.drop_rate > 0:
                x = layers.Dropout(self.drop_rate)(x)
        outputs = layers.Dense(self.num_classes, activation='softmax')(layers.Flatten()(x))
        self.model = models.Model(inputs, outputs)
        self.model.compile(optimizer=self.optimizer, loss='sparse_categorical_crossentropy', metrics=['accuracy'])


loss_object = keras.losses.SparseCategoricalCrossentropy()


def fgsm_attack(model, input_image, input_label=None, epsilon=0.0313, clip_value_min=-1.0, clip_value_max=1.0):
    x = tf.convert_to_tensor(input_image)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = loss_object(input_label, model(x))
    x_adv = x + epsilon * tf.sign(tape.gradient(loss, x))
    return tf.clip_by_value(x_adv, clip_value_min, clip_value_max)


def pgd_attack(model, input_image, input_label=None, epsilon=0.0313, num_steps=20, step_size=0.002,
               clip_value_min=-1.0, clip_value_max=1.0):
    x = tf.convert_to_tensor(input_image)
    x_adv = x + tf.random.uniform(x.shape, -epsilon, epsilon, dtype=x.dtype)
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            loss = loss_object(input_label, model(x_adv))
        x_adv = x_adv + step_size * tf.sign(tape.gradient(loss, x_adv))
        x_adv = tf.clip_by_value(x_adv, x - epsilon, x + epsilon)
        x_adv = tf.clip_by_value(x_adv, clip_value_min, clip_value_max)
    return x_adv


def mim_attack(model, input_image, input_label=None, epsilon=0.0313, num_steps=20, step_size=0.002, decay=1.0,
               clip_value_min=-1.0, clip_value_max=1.0):
    x = tf.convert_to_tensor(input_image)
    x_adv, momentum = x, tf.zeros_like(x)
    for _ in range(num_steps):
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            loss = loss_object(input_label, model(x_adv))
        grad = tape.gradient(loss, x_adv)
        momentum = decay * momentum + grad / (tf.reduce_sum(tf.abs(grad), axis=[1, 2, 3], keepdims=True) + 1e-12)
        x_adv = x_adv + step_size * tf.sign(momentum)
        x_adv = tf.clip_by_value(x_adv, x - epsilon, x + epsilon)
        x_adv = tf.clip_by_value(x_adv, clip_value_min, clip_value_max)
    return x_adv
