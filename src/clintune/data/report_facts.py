"""The vocabulary of the diagnostic-report writer (report_notes.py parses it and documents the option fields): ten
studies, each with the structures its report describes and, per structure, one normal and several abnormal options.
Invented from general medical knowledge; nothing is drawn from a real record.
"""

# A study: key, name (its words are in every title), titles, reasons ("reason; plain words; unit of its duration"),
# technique, extra normal sentences, findings sections (headings, "" = FINDINGS; slots: name, flags, options
# "label | text | impression | plain | measure | what | then | ref | advice", normal first, separated by //),
# the impression when nothing is abnormal, and whether the study is for men only.

ECHO = (
    "echo", "transthoracic echocardiogram",
    ("Transthoracic echocardiogram. | TTE with 2-D, M-mode and Doppler. | 2-D transthoracic echocardiogram with "
     "Doppler."),
    ("shortness of breath; trouble breathing; week | a new heart murmur; a new heart murmur; week | palpitations; "
     "palpitations; month | bilateral leg swelling; swelling of both legs; week"),
    "Complete TTE with 2-D, M-mode, color and spectral Doppler imaging. Image quality is adequate.",
    "The aortic root is normal in size. | The inferior vena cava is normal in size with normal respiratory variation.",
    (
        ("M-MODE AND 2-D ECHOCARDIOGRAM: | 2-D AND M-MODE FINDINGS: | M-MODE/2-D:", (
            ("left atrium", "",
             (" | Left atrial size is normal, with left atrial diameter of {m}. |  |  | 3.0 3.9 cm | left atrial "
              "diameter // left atrial enlargement | The left atrium is dilated. | Left atrial enlargement with left "
              "atrial diameter of {m}. | The left atrium is larger than normal. | 4.2 5.4 cm | left atrial diameter | "
              "It measures {m} in diameter. | the left atrium")),
            ("left ventricular wall", "",
             (" | Normal LV wall thickness, with interventricular septum of {m}. |  |  | 0.7 1.1 cm | interventricular "
              "septum thickness // left ventricular hypertrophy | Concentric left ventricular hypertrophy, with "
              "interventricular septum of {m}. | Concentric left ventricular hypertrophy. | The left ventricular wall "
              "is thicker than normal all the way around, with the septum at {m}. | 1.3 1.7 cm | interventricular "
              "septum thickness")),
            ("left ventricular function", "",
             (" | LV systolic function is normal with an ejection fraction of {m}. | Normal LV systolic function, EF "
              "{m}. |  | 55 70 % | LV ejection fraction // reduced LV systolic function | Global hypokinesis of the LV "
              "with an ejection fraction of {m}. | Reduced LV systolic function with EF of {m}. | The whole LV is "
              "moving less than normal, and the ejection fraction is only {m}. | 25 45 % | LV ejection fraction")),
            ("pericardium", "",
             (" | No pericardial effusion. // small pericardial effusion | There is a small circumferential "
              "pericardial effusion without tamponade physiology. | Small pericardial effusion ({m}) without "
              "tamponade. | A small amount of fluid sits all the way around in the pericardial sac, without signs of "
              "tamponade. | 0.5 1.0 cm |  | It measures {m} in maximal depth.")),
        )),
        ("DOPPLER: | DOPPLER FINDINGS: | DOPPLER STUDY:", (
            ("mitral valve", "",
             (" | The mitral valve is structurally normal. |  |  |  |  | It shows only trace regurgitation. | the "
              "mitral valve // mild mitral regurgitation | Mild mitral regurgitation. |  | The mitral valve lets a "
              "little flow go the wrong way. |  |  | It is centrally directed. | the mitral regurgitation")),
            ("tricuspid valve", "",
             (" | Trace tricuspid regurgitation with PA systolic pressure of {m}. |  |  | 20 32 mmHg | PA systolic "
              "pressure // pulmonary hypertension | Mild tricuspid regurgitation with PA systolic pressure of {m}. | "
              "Pulmonary hypertension with PA systolic pressure of {m}. | The tricuspid valve lets a little flow go "
              "the wrong way, and the pressure in the pulmonary artery is {m}. | 36 60 mmHg | PA systolic pressure")),
            ("aortic valve", "",
             (" | The aortic valve is trileaflet. |  |  |  |  | It opens well, without stenosis or insufficiency. | "
              "the aortic valve // aortic stenosis | The aortic valve is calcified. | Aortic stenosis with peak "
              "gradient of {m}. | The aortic valve is hardened with calcium. | 25 60 mmHg | aortic valve peak gradient "
              "| Its peak gradient is {m}. | the aortic valve")),
        )),
    ),
    "Normal transthoracic echocardiogram.", False)

RENAL = (
    "renal", "renal and bladder ultrasound",
    "Renal and bladder ultrasound. | US renal and bladder. | Ultrasound of the kidneys and urinary bladder.",
    ("left flank pain; pain in the left side; day | right flank pain; pain in the right side; day | gross hematuria; "
     "visible hematuria; week | AKI; a sudden drop in kidney function; day"),
    "Real-time grayscale and color Doppler images of both kidneys and the urinary bladder were obtained.",
    "No perinephric fluid collection is seen. | Both ureteral jets are seen within the urinary bladder.",
    (
        ("", (
            ("{side} kidney", "paired",
             (" | The {side} kidney measures {m} in length with normal echogenicity and no hydronephrosis, stones or "
              "masses. |  |  | 9.8 12.2 cm | {side} kidney length // {side} renal stone | There is an echogenic "
              "shadowing focus in the {side} kidney lower pole, consistent with a nonobstructing stone. | "
              "Nonobstructing {side} renal stone measuring {m}. | There is a kidney stone in the lower part of the "
              "{side} kidney, and it is not blocking anything. | 0.4 1.8 cm |  | It measures {m}. // {side} renal cyst "
              "| A simple anechoic cyst arises from the {side} kidney upper pole. | Simple {side} renal cyst measuring "
              "{m}, benign. | There is a simple fluid-filled cyst on the upper part of the {side} kidney. | 1.0 5.5 cm "
              "|  | It measures {m} and has a thin wall. // {side} hydronephrosis | There is moderate hydronephrosis "
              "of the {side} kidney, with renal pelvis diameter of {m}. | Moderate {side} hydronephrosis. | The "
              "drainage system inside the {side} kidney is moderately wider than normal, measuring {m} at the renal "
              "pelvis. | 1.5 3.0 cm | {side} renal pelvis diameter // {side} renal mass | A solid hypoechoic mass with "
              "internal vascularity is seen in the {side} kidney interpolar region. | Solid {side} renal mass "
              "measuring {m}, concerning for renal cell carcinoma. | There is a solid growth with its own vessels in "
              "the middle part of the {side} kidney. | 1.5 4.5 cm |  | It measures {m}. |  | CT urogram is recommended "
              "for further evaluation.")),
            ("urinary bladder", "",
             (" | The urinary bladder is well distended. |  |  |  |  | It has a smooth wall and contains no stones. | "
              "the urinary bladder // bladder wall thickening | The urinary bladder wall is diffusely thickened and "
              "trabeculated. | Diffuse bladder wall thickening to {m}, which may reflect chronic outlet obstruction. | "
              "The wall of the urinary bladder is thicker than normal all over, with an uneven surface. | 6 10 mm |  | "
              "It measures {m} in thickness. | the urinary bladder wall // bladder mass | A polypoid mass arises from "
              "the {side} lateral wall of the urinary bladder. | Polypoid {side} bladder wall mass measuring {m}, "
              "concerning for urothelial neoplasm. | A growth sticks out from the {side} side wall of the urinary "
              "bladder. | 0.8 3.0 cm |  | It measures {m}. |  | Urology referral is recommended.")),
            ("bladder emptying", "optional",
             (" | PVR is {m}. |  |  | 10 60 mL | PVR // elevated post-void residual | Elevated PVR of {m}. | "
              "Incomplete bladder emptying with PVR of {m}. | A large amount of urine, {m}, is left in the bladder "
              "afterward. | 150 450 mL | PVR")),
        )),
    ),
    "Normal renal and bladder ultrasound.", False)

SCROTAL = (
    "scrotal", "scrotal ultrasound",
    "Scrotal ultrasound with color Doppler. | US scrotum with color Doppler. | Ultrasound of the scrotum and testes.",
    ("left scrotal pain; pain in the left side of the scrotum; day | right testicular swelling; swelling of the right "
     "testicle; week | a palpable left testicular lump; a lump felt in the left testicle; week | scrotal heaviness; a "
     "heavy feeling in the scrotum; month"),
    "Grayscale and color Doppler images of both testes and the scrotal contents were obtained.",
    "The scrotal wall is normal in thickness. | No inguinal hernia is seen.",
    (
        ("", (
            ("{side} testis", "paired",
             (" | The {side} testis has homogeneous echotexture and normal blood flow. |  |  | 3.8 5.0 cm | {side} "
              "testis length | It measures {m} in length. | the {side} testis // {side} testicular mass | There is a "
              "hypoechoic intratesticular mass in the {side} testis with internal blood flow. | Solid {side} "
              "intratesticular mass measuring {m}, suspicious for germ cell tumor. | There is a darker solid growth "
              "inside the {side} testicle, with blood flow inside it. | 0.6 2.8 cm |  | It measures {m}. |  | Urology "
              "consultation and tumor markers are recommended.")),
            ("{side} epididymis", "paired optional",
             (" | The {side} epididymis is normal in size. // {side} epididymitis | The head of the {side} epididymis "
              "is enlarged and hyperemic, with increased blood flow, measuring {m}. |  | The top of the {side} "
              "epididymis is enlarged and has more blood flow than normal, measuring {m}. | 1.3 2.0 cm | {side} "
              "epididymis head size")),
            ("scrotal sac", "",
             (" | No hydrocele or varicocele. // {side} hydrocele | There is a simple {side} hydrocele. | Simple "
              "{side} hydrocele. | There is a collection of clear fluid around the {side} testicle. | 1.5 5.0 cm |  | "
              "It measures {m} in depth. // {side} varicocele | Dilated veins of the {side} pampiniform plexus measure "
              "up to {m} and enlarge with straining. | {Side} varicocele with veins up to {m}. | The veins above the "
              "{side} testicle are wider than normal, up to {m}, and get bigger when the patient bears down. | 3.2 4.5 "
              "mm | {side} pampiniform vein diameter")),
        )),
    ),
    "Normal scrotal ultrasound.", True)

CTAP = (
    "ctap", "CT of the abdomen and pelvis",
    ("CT of the abdomen and pelvis with IV contrast. | CT abdomen and pelvis with IV contrast. | Contrast-enhanced CT "
     "of the abdomen and pelvis."),
    ("RLQ pain; pain in the right lower quadrant of the belly; day | LLQ pain and fever; pain in the left lower "
     "quadrant of the belly and fever; day | unintentional weight loss; weight loss without trying; month | diffuse "
     "abdominal pain; pain all over the belly; day"),
    "Axial CT images of the abdomen and pelvis were obtained after IV contrast, with coronal reformats.",
    "The spleen, pancreas and gallbladder are unremarkable. | The abdominal aorta is normal in caliber.",
    (
        ("", (
            ("liver", "",
             (" | The liver is normal in size and attenuation. |  |  |  |  | It has no focal lesion. | the liver // "
              "hepatic cyst | A well-circumscribed fluid-attenuation lesion is present in the right hepatic lobe. |  | "
              "There is a smooth-edged, fluid-filled spot in the right lobe of the liver. | 0.8 4.0 cm |  | It "
              "measures {m}. // hepatic steatosis | The liver is diffusely low in attenuation, measuring {m}. |  | The "
              "whole liver looks darker than normal, at {m}. | 10 35 HU | liver attenuation")),
            ("appendix", "",
             (" | The appendix is normal with a diameter of {m}. |  |  | 4 6 mm | appendix diameter // acute "
              "appendicitis | The appendix is dilated to a diameter of {m}, with wall thickening and periappendiceal "
              "fat stranding. | Acute appendicitis without perforation. | The appendix is wider than normal at {m} "
              "across, with a thick wall and changes in the fat around it. | 9 16 mm | appendix diameter")),
            ("bowel", "",
             (" | No bowel obstruction or bowel wall thickening. // sigmoid diverticulitis | There is sigmoid "
              "diverticulosis with bowel wall thickening to {m} and pericolonic fat stranding. | Acute uncomplicated "
              "sigmoid diverticulitis. | The sigmoid colon has diverticulosis, with the bowel wall thickened to {m} "
              "and changes in the fat around it. | 5 9 mm | sigmoid bowel wall thickness")),
            ("kidneys and ureters", "",
             (" | The kidneys enhance symmetrically. |  |  |  |  | They show no hydronephrosis or stones. | the "
              "kidneys // {side} ureteral stone | There is an obstructing stone in the distal {side} ureter. | "
              "Obstructing {side} distal ureteral stone measuring {m} with mild hydronephrosis. | A stone is blocking "
              "the {side} ureter near its far end. | 3 9 mm |  | It measures {m} and causes mild upstream "
              "hydronephrosis.")),
            ("lymph nodes", "optional",
             (" | No free fluid, free air or lymphadenopathy. // enlarged {side} external iliac lymph node | An "
              "enlarged {side} external iliac lymph node is present. | Enlarged {side} external iliac lymph node, {m} "
              "in short axis. | A lymph node along the {side} external iliac vessels is larger than normal. | 1.1 2.2 "
              "cm |  | It measures {m} in short axis. | the {side} external iliac lymph node | Follow-up CT in {f} "
              "months is recommended.")),
        )),
    ),
    "No acute abnormality in the abdomen or pelvis.", False)

CTU = (
    "ctu", "CT urogram",
    "CT urogram. | CT urogram with and without IV contrast. | CT abdomen and pelvis, CT urogram protocol.",
    ("gross hematuria; visible hematuria; week | microscopic hematuria; hematuria seen only under the microscope; "
     "month | right flank pain; pain in the right side; week | left flank pain; pain in the left side; week"),
    "Noncontrast, nephrographic and excretory phase images of the abdomen and pelvis were obtained after IV contrast.",
    "The spleen and pancreas are unremarkable. | No retroperitoneal lymphadenopathy.",
    (
        ("", (
            ("kidneys", "",
             (" | Both kidneys enhance normally without solid mass. // {side} renal mass | An enhancing solid mass "
              "arises from the {side} kidney lower pole. | Enhancing {side} renal mass measuring {m}, consistent with "
              "renal cell carcinoma until proven otherwise. | A solid growth that lights up with contrast comes off "
              "the lower part of the {side} kidney. | 1.5 6.0 cm |  | It measures {m}. |  | Urology referral is "
              "recommended. // {side} renal stone | A nonobstructing stone is present in the {side} kidney lower pole. "
              "| Nonobstructing {side} renal stone measuring {m}. | A kidney stone sits in the lower part of the "
              "{side} kidney without blocking it. | 3 12 mm |  | It measures {m}.")),
            ("collecting systems", "",
             (" | The collecting systems opacify normally without filling defect. // {side} renal pelvis filling "
              "defect | There is an irregular filling defect in the {side} renal pelvis on excretory images. | Filling "
              "defect in the {side} renal pelvis measuring {m}, concerning for urothelial carcinoma. | On the delayed "
              "pictures, something irregular is taking up space in the {side} renal pelvis. | 0.6 2.5 cm |  | It "
              "measures {m}. |  | Ureteroscopy is recommended.")),
            ("ureters", "",
             (" | The ureters are normal in caliber without stones. // {side} ureteral stone | A stone is present in "
              "the proximal {side} ureter. | Proximal {side} ureteral stone measuring {m} with mild hydronephrosis. | "
              "There is a stone in the first part of the {side} ureter. | 3 8 mm |  | It measures {m} and causes mild "
              "upstream hydronephrosis.")),
            ("bladder", "",
             (" | The bladder is well distended. |  |  |  |  | It has no focal wall thickening or filling defect. | "
              "the bladder // bladder mass | There is an enhancing mass along the {side} bladder wall. | Enhancing "
              "{side} bladder wall mass measuring {m}, suspicious for urothelial carcinoma. | There is a growth that "
              "lights up with contrast on the {side} wall of the bladder. | 0.8 3.5 cm |  | It measures {m}. |  | "
              "Urology referral is recommended.")),
        )),
    ),
    "Normal CT urogram.", False)

CXR = (
    "cxr", "chest X-ray",
    "Chest X-ray, two views. | CXR, frontal and lateral views. | Portable AP chest X-ray.",
    ("cough and fever; a cough and fever; day | shortness of breath; trouble breathing; day | pleuritic chest pain; "
     "chest pain that is worse with breathing; day | chronic cough; a long-lasting cough; month"),
    "Frontal and lateral views of the chest were obtained.",
    "The mediastinal contours are normal. | No free air under the diaphragm.",
    (
        ("", (
            ("lungs", "",
             (" | The lungs are clear without focal consolidation. // {side} lower lobe pneumonia | There is airspace "
              "consolidation in the {side} lower lobe. |  | Part of the {side} lower lobe looks filled in "
              "(consolidation). |  |  | It silhouettes the {side} hemidiaphragm. | the {side} lower lobe consolidation "
              "// {side} upper lobe nodule | A rounded nodule is seen in the {side} upper lobe. |  | There is a round "
              "spot in the {side} upper lobe. | 0.8 2.4 cm |  | It measures {m}. |  | Follow-up chest CT in {f} months "
              "is recommended.")),
            ("pleura", "",
             (" | No pleural effusion or pneumothorax. // {side} pleural effusion | There is a small {side} pleural "
              "effusion. | Small {side} pleural effusion. | A small amount of fluid has collected in the {side} "
              "pleural space. |  |  | It blunts the {side} costophrenic angle. // {side} pneumothorax | There is a "
              "small {side} apical pneumothorax. | Small {side} apical pneumothorax, {m} from the apex. | A small "
              "pocket of air has collected at the top, on the {side}. | 1.0 2.5 cm |  | It measures {m} from the "
              "apex.")),
            ("heart", "",
             (" | The cardiac silhouette is normal in size. |  |  | 0.40 0.49 - | cardiothoracic ratio | Its "
              "cardiothoracic ratio is {m}. | the cardiac silhouette // cardiomegaly | The cardiac silhouette is "
              "enlarged. |  | The heart looks enlarged. | 0.55 0.65 - | cardiothoracic ratio | Its cardiothoracic "
              "ratio is {m}. | the cardiac silhouette")),
        )),
    ),
    "No acute cardiopulmonary process.", False)

KUB = (
    "kub", "KUB",
    "KUB. | Abdominal radiograph (KUB). | Single supine view of the abdomen (KUB).",
    ("right flank pain; pain in the right side; day | left flank pain; pain in the left side; day | constipation; "
     "constipation; week | abdominal distension; a swollen belly; day"),
    "A single supine frontal view of the abdomen was obtained.",
    "No free air is evident on this supine view. | No abnormal soft tissue calcification.",
    (
        ("", (
            ("urinary tract", "",
             (" | No radiopaque calculi are seen over the kidneys or along the expected course of the ureters. // "
              "{side} renal calculus | A radiopaque calculus projects over the {side} renal shadow. |  | A stone shows "
              "up over the {side} kidney. | 0.5 2.0 cm |  | It measures {m}. // {side} ureteral calculus | A "
              "radiopaque density projects along the expected course of the {side} ureter at the level of L4. | "
              "Probable {side} ureteral calculus measuring {m}. | A dense spot shows up along the path of the {side} "
              "ureter at the level of L4. | 3 9 mm |  | It measures {m}.")),
            ("bowel gas", "",
             (" | The bowel gas pattern is nonobstructive. |  |  |  |  | It shows gas throughout the colon to the "
              "rectum. | the bowel gas pattern // small bowel dilation | Dilated small bowel loops are present, with "
              "little colonic gas. | Dilated small bowel loops, concerning for SBO. | Loops of small bowel are wider "
              "than normal, and there is little gas in the colon. | 3.0 4.5 cm | small bowel loop diameter | They "
              "measure up to {m} in diameter. | the dilated small bowel loops // large stool burden | A large amount "
              "of stool is present throughout the colon. |  | There is a lot of stool throughout the colon. |  |  | It "
              "is most marked in the rectosigmoid colon. | the stool")),
        )),
    ),
    "Normal KUB.", False)

BONE = (
    "bone", "whole-body bone scan",
    "Whole-body bone scan. | Nuclear medicine whole-body bone scan. | NM whole-body bone scan.",
    ("low back pain; pain low in the back; week | right hip pain; pain in the right hip; month | rising PSA; a rising "
     "PSA level; month | diffuse bone pain; bone pain all over; month"),
    "Whole-body images were obtained 3 hours after IV injection of 25 mCi technetium-99m MDP.",
    "The skull and facial bones show physiologic uptake. | Soft tissue uptake is physiologic.",
    (
        ("", (
            ("axial skeleton", "",
             (" | Radiotracer distribution in the axial skeleton is physiologic. |  |  |  |  | It is symmetric, "
              "without focal increased uptake. | the radiotracer distribution // osseous metastatic disease | Multiple "
              "foci of intense radiotracer uptake are present in the thoracic and lumbar spine and ribs. | Multiple "
              "foci of uptake in the spine and ribs, consistent with osseous metastatic disease. | There are many "
              "spots of strong radiotracer uptake in the spine and ribs. | 1.5 3.5 cm | largest focus of uptake | They "
              "are most intense in the L2 vertebral body, where the largest measures {m}. | the foci of radiotracer "
              "uptake // {side} sixth rib uptake | There is a single focus of increased uptake in the {side} sixth "
              "rib. | Focal {side} sixth rib uptake, likely a healing fracture. | A single spot in the {side} sixth "
              "rib shows more uptake. | 1.0 2.0 cm |  | It measures {m} and is linear, favoring a healing fracture.")),
            ("appendicular skeleton", "",
             (" | No abnormal uptake in the extremities. // {side} knee degenerative uptake | There is mildly "
              "increased uptake in the {side} knee in a degenerative pattern. | Degenerative uptake in the {side} "
              "knee. | The {side} knee shows a little more uptake, in a wear-and-tear pattern. |  |  | It involves the "
              "medial compartment. | the increased uptake in the {side} knee")),
        )),
    ),
    "No scintigraphic evidence of osseous metastatic disease.", False)

CAROTID = (
    "carotid", "carotid Doppler ultrasound",
    "Bilateral carotid Doppler ultrasound. | Carotid duplex Doppler ultrasound. | US carotid Doppler, bilateral.",
    ("a carotid bruit; a carotid bruit; week | dizziness; dizziness; week | transient left arm weakness; brief "
     "weakness of the left arm; day | transient vision loss in the right eye; brief loss of sight in the right eye; "
     "day"),
    "Grayscale, color and spectral Doppler images of both carotid and vertebral arteries were obtained.",
    "The common carotid arteries show normal waveforms. | The external carotid arteries are patent.",
    (
        ("", (
            ("{side} ICA", "paired",
             (" | The {side} ICA has no significant plaque. |  |  | 60 115 cm/s | {side} ICA peak systolic velocity | "
              "Its peak systolic velocity is {m}, consistent with less than 50% stenosis. | the {side} ICA // {side} "
              "ICA stenosis of 50-69% | There is heterogeneous plaque in the {side} ICA. |  | There is plaque of mixed "
              "texture in the {side} internal carotid artery. | 130 225 cm/s | {side} ICA peak systolic velocity | Its "
              "peak systolic velocity is {m}, consistent with 50-69% stenosis. | the {side} ICA // {side} ICA stenosis "
              "of 70-99% | There is calcified plaque in the {side} ICA. |  | There is plaque hardened with calcium in "
              "the {side} internal carotid artery. | 240 420 cm/s | {side} ICA peak systolic velocity | Its peak "
              "systolic velocity is {m}, consistent with 70-99% stenosis. | the {side} ICA | Vascular surgery referral "
              "is recommended.")),
            ("{side} vertebral artery", "paired optional",
             (" | Antegrade flow in the {side} vertebral artery. // reversed flow in the {side} vertebral artery | "
              "There is retrograde flow in the {side} vertebral artery. | Reversed {side} vertebral artery flow, "
              "suggesting subclavian steal. | Flow goes the wrong way in the {side} vertebral artery.")),
        )),
    ),
    "No hemodynamically significant carotid stenosis.", False)

RUQ = (
    "ruq", "right upper quadrant ultrasound",
    "Right upper quadrant ultrasound. | US abdomen, limited, right upper quadrant. | RUQ ultrasound.",
    ("RUQ pain after meals; pain in the right upper quadrant after eating; week | elevated LFTs; abnormal liver "
     "function tests; week | nausea and epigastric pain; nausea and pain in the epigastric area; day"),
    "Grayscale and color Doppler images of the right upper quadrant were obtained.",
    "The main portal vein is patent with hepatopetal flow. | The visualized right kidney is normal in echotexture.",
    (
        ("", (
            ("gallbladder", "",
             (" | The gallbladder is normal without stones or pericholecystic fluid. |  |  | 1.5 3.0 mm | gallbladder "
              "wall thickness | Its wall measures {m}. | the gallbladder // cholelithiasis | Multiple mobile shadowing "
              "gallstones are present in the gallbladder. | Cholelithiasis without sonographic evidence of acute "
              "cholecystitis. | There are several gallstones in the gallbladder that move and cast shadows. | 0.5 2.2 "
              "cm | largest gallstone | They measure up to {m}, the largest in the gallbladder neck. | the gallstones "
              "// acute cholecystitis | The gallbladder is distended with gallstones and pericholecystic fluid. | "
              "Findings consistent with acute calculous cholecystitis. | The gallbladder is stretched and has "
              "gallstones and fluid around it. | 4 8 mm | gallbladder wall thickness | Its wall is thickened to {m}. | "
              "the gallbladder")),
            ("bile ducts", "",
             (" | The CBD is not dilated. |  |  | 3 5 mm | CBD diameter | It measures {m} in diameter. | the CBD // "
              "CBD dilation | The CBD is dilated. | Dilated CBD ({m}); consider MRCP to evaluate for "
              "choledocholithiasis. | The common bile duct is wider than normal. | 8 13 mm | CBD diameter | It "
              "measures {m} in diameter. | the CBD")),
            ("liver", "",
             (" | The liver is normal in size and echotexture. |  |  | 13.0 16.0 cm | liver length | It measures {m} "
              "in craniocaudal length. | the liver // hepatic steatosis | The liver is diffusely echogenic, consistent "
              "with fatty infiltration. |  | The liver looks brighter than normal, which fits fatty infiltration. |  | "
              " | It shows no focal lesion. | the liver // hepatomegaly | The liver is enlarged. | Hepatomegaly, {m} "
              "in length. | The liver is bigger than normal. | 18.5 22.0 cm | liver length | It measures {m} in "
              "craniocaudal length. | the liver")),
            ("pancreas", "optional",
             (" | The visualized pancreas is unremarkable. // pancreatic head cyst | A small cyst is seen in the "
              "pancreatic head. |  | There is a small cyst in the pancreatic head. | 0.6 1.8 cm |  | It measures {m}. "
              "|  | Follow-up MRCP in {f} months is recommended.")),
        )),
    ),
    "Normal right upper quadrant ultrasound.", False)

STUDIES = (ECHO, RENAL, SCROTAL, CTAP, CTU, CXR, KUB, BONE, CAROTID, RUQ)
PMH = (("HTN", "hypertension"), ("DM", "diabetes mellitus"), ("CAD", "coronary artery disease"),
       ("CKD", "chronic kidney disease"), ("COPD", "chronic obstructive pulmonary disease"),
       ("AFib", "atrial fibrillation"), ("HLD", "hyperlipidemia"), ("BPH", "benign prostatic hyperplasia"))
# What no report holds, for questions the note cannot answer ("question; what was asked").
ABSENT_ABBREVIATIONS = ("MRI", "PET", "ERCP", "TURBT", "EEG", "DVT")
ABSENT_STRUCTURES = ("thyroid nodule", "ovarian cyst", "adrenal adenoma", "breast mass", "pituitary lesion")
ABSENT_VALUES = ("What was the ejection fraction?; the ejection fraction; echo | What was the post-void residual?; a "
                 "post-void residual; renal | What was the common bile duct diameter?; the common bile duct "
                 "diameter; ruq | What was the serum creatinine?; the serum creatinine; | What was the patient's "
                 "blood pressure?; the patient's blood pressure; | What was the prostate volume?; the prostate "
                 "volume; | What was the radiation dose?; the radiation dose;")
ABSENT_ASKS = {
    "Named Entity Recognition": "Any allergies?; the patient's allergies | Which contrast agent was used?; the "
                                "contrast agent",
    "Paraphrasing": "Paraphrase the family history in plain language.; the family history | Explain the biopsy "
                    "results in simple words.; biopsy results | Rewrite the discharge instructions in plain language.; "
                    "discharge instructions",
    "Summarization": "Summarize the patient's laboratory results.; laboratory results | Summarize the operative "
                     "findings.; operative findings | Summarize the patient's medication changes.; medication changes"}
