# The course's tutorial code on adversarial examples, as the tests' stand-in (written for these tests in the
# shape the 2021 and 2022 students' code shares): the students may start from it, so it is boilerplate.
import tensorflow as tf

loss_object = tf.keras.losses.SparseCategoricalCrossentropy()


def fgsm_attack(model, input_image, input_label=None, epsilon=0.0313, clip_value_min=-1.0, clip_value_max=1.0):
    input_image = tf.convert_to_tensor(input_image, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(input_image)
        prediction = model(input_image)
        loss = loss_object(input_label, prediction)
    # the gradients of the loss w.r.t the input image
    gradient = tape.gradient(loss, input_image)
    # the sign of the gradients to create the perturbation
    signed_grad = tf.sign(gradient)
    adv_image = input_image + epsilon * signed_grad
    adv_image = tf.clip_by_value(adv_image, clip_value_min, clip_value_max)
    return adv_image


def pgd_attack(model, input_image, input_label=None, epsilon=0.0313, num_steps=20, step_size=0.002,
               clip_value_min=-1.0, clip_value_max=1.0):
    input_image = tf.convert_to_tensor(input_image, dtype=tf.float32)
    # random start inside the epsilon ball
    adv_image = input_image + tf.random.uniform(tf.shape(input_image), -epsilon, epsilon)
    for i in range(num_steps):
        with tf.GradientTape() as tape:
            tape.watch(adv_image)
            prediction = model(adv_image)
            loss = loss_object(input_label, prediction)
        gradient = tape.gradient(loss, adv_image)
        adv_image = adv_image + step_size * tf.sign(gradient)
        # project back into the epsilon ball and the valid range
        adv_image = tf.clip_by_value(adv_image, input_image - epsilon, input_image + epsilon)
        adv_image = tf.clip_by_value(adv_image, clip_value_min, clip_value_max)
    return adv_image
