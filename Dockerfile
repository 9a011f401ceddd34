# Batch inference image: docker build -t medseg . && \
#   docker run --rm --user "$(id -u):$(id -g)" -v $PWD/in:/workspace/inputs:ro -v $PWD/out:/workspace/outputs medseg
# GPU: docker build --build-arg EXTRAS=gpu -t medseg-gpu . && docker run --gpus all ... medseg-gpu
FROM python:3.11-slim
ARG EXTRAS=""
ENV PYTHONUNBUFFERED=1
WORKDIR /opt/medseg
COPY setup.py README.md ./
COPY serving serving
COPY preprocessing preprocessing
COPY evaluation evaluation
COPY networks networks
COPY localization localization
COPY scn scn
COPY cfcm cfcm
COPY rstn rstn
COPY interactive interactive
COPY nodules nodules
COPY inference inference
RUN pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}"
COPY saved_models saved_models
COPY predict.sh predict.sh
# Any --user reads the model sets, whatever the modes they were exported with.
RUN chmod -R a+rX saved_models predict.sh && mkdir -p /workspace/inputs /workspace/outputs
ENTRYPOINT ["/opt/medseg/predict.sh"]
